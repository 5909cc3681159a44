import type { Capabilities, Connector } from '../types.js';
import { DatabricksSession, describeDatabricksTarget, type DatabricksFlavour } from './client.js';
import { databricksDialect, renderDatabricks } from './dialect.js';

/** Documented tag rules (docs.databricks.com, "Apply tags to Unity Catalog securable objects"). */
export const DATABRICKS_TAG_KEY_LENGTH = 255;
const FORBIDDEN_IN_TAG_KEYS = /[.,\-=/:]/;

export const DATABRICKS_CAPABILITIES: Capabilities = {
  description: ['database', 'schema', 'table', 'column'],
  owner: ['database', 'schema', 'table'],
  tags: ['database', 'schema', 'table', 'column'],
  maxOwners: 1,
  ownerRemovable: false,
  tagLimits: { perObject: 50, valueLength: 1000 },
};

/** A tag key Databricks accepts, or why not (checked at validation, before anything connects). */
export function checkDatabricksTagKey(key: string): string | { error: string; hint: string } {
  const hint = 'write a key of at most 255 characters without . , - = / :';
  if (key.length === 0) return { error: 'a Databricks tag key cannot be empty', hint };
  if ([...key].length > DATABRICKS_TAG_KEY_LENGTH)
    return { error: `tag key ${key.slice(0, 40)}... is ${[...key].length} characters long; Databricks allows at most ${DATABRICKS_TAG_KEY_LENGTH}`, hint };
  const bad = FORBIDDEN_IN_TAG_KEYS.exec(key);
  if (bad) return { error: `tag key ${key} contains "${bad[0]}"; Databricks tag keys cannot contain . , - = / :`, hint };
  return key;
}

/**
 * Databricks and Unity Catalog (the name OpenMetadata gives a Unity Catalog service) are one
 * implementation: both speak to a SQL warehouse through @databricks/sql. They differ only on
 * hive_metastore, which `unitycatalog` refuses.
 */
function databricksFamily(type: string, flavour: DatabricksFlavour): Connector {
  return {
    type,
    displayName: flavour.displayName,
    capabilities: DATABRICKS_CAPABILITIES,
    dialect: databricksDialect,
    // Unity Catalog stores catalog, schema and table names in lower case and resolves every
    // identifier (columns too) case-insensitively.
    canonicalName: (name) => name.toLowerCase(),
    canonicalTagKey: (key) => checkDatabricksTagKey(key),
    render: (changes, snapshot, service, server) => renderDatabricks(changes, snapshot, service, server),
    describeTarget: describeDatabricksTarget,
    connect: (service) => DatabricksSession.open(service, flavour),
  };
}

export const databricksConnector = databricksFamily('databricks', { displayName: 'Databricks', allowsHiveMetastore: true });
export const unityCatalogConnector = databricksFamily('unitycatalog', { displayName: 'Unity Catalog', allowsHiveMetastore: false });
