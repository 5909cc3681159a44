import type { Connector } from '../types.js';
import { SnowflakeSession } from './client.js';
import { renderSnowflake, snowflakeDialectFor } from './dialect.js';
import { resolveTagKey, storedName, tagKeyFor, tagSchemaOf } from './names.js';

/**
 * Snowflake: descriptions everywhere, owners (roles) through GRANT OWNERSHIP, tags as tag
 * objects. The driver (client.ts) is imported only when a Snowflake service connects.
 */
export const snowflakeConnector: Connector = {
  type: 'snowflake',
  displayName: 'Snowflake',
  capabilities: {
    description: ['database', 'schema', 'table', 'column'],
    owner: ['database', 'schema', 'table'],
    tags: ['database', 'schema', 'table', 'column'],
    maxOwners: 1,
    ownerRemovable: false,
    tagLimits: { perObject: 50, valueLength: 256 },
  },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      tagSchema: { type: 'string', pattern: '^[^.]+\\.[^.]+$', description: 'DATABASE.SCHEMA holding the tag objects that bare YAML tag keys name.' },
      manageEngineTags: { type: 'boolean', description: 'Let metaform change and prune tags the engine applied (SNOWFLAKE.CORE system tags, classified or propagated assignments); off by default.' },
      createTags: { type: 'boolean', description: 'Create missing tag objects, as a planned change of their own.' },
      concurrency: { type: 'integer', minimum: 1, maximum: 64, description: 'Statements in flight at once during apply (default 8).' },
    },
  },
  dialect: snowflakeDialectFor,
  canonicalName: (name) => storedName(name),
  canonicalTagKey(key, service) {
    const tagSchema = tagSchemaOf(service.options);
    const tag = resolveTagKey(key, tagSchema);
    return 'error' in tag ? { ...tag, hint: 'write the tag name, or DATABASE.SCHEMA.TAG' } : tagKeyFor(tag, tagSchema);
  },
  render: (changes, snapshot, service) => renderSnowflake(changes, snapshot, service),
  describeTarget: (service) => {
    const { account, user, username, host } = service.connection as Record<string, unknown>;
    const who = user ?? username;
    return `account ${String(account ?? '(no account)')}${host ? ` (${String(host)})` : ''}${who ? ` as ${String(who)}` : ''}`;
  },
  connect: (service) => SnowflakeSession.open(service),
};
