import type { Capabilities, Connector } from '../types.js';
import { AthenaSession, describeAthenaTarget } from './client.js';
import { athenaDialect, renderAthena } from './dialect.js';

/**
 * Table descriptions only. Column comments and Glue database descriptions are left out: Hive's
 * ALTER TABLE ... CHANGE COLUMN restates the column's type, and Glue's UpdateTable and
 * UpdateDatabase replace the whole table or database input, so neither can be shown to keep
 * every other attribute (docs/athena.md says why in full).
 */
export const ATHENA_CAPABILITIES: Capabilities = {
  description: ['table'],
  owner: [],
  tags: [],
  maxOwners: 1,
  ownerRemovable: true,
  unsupported: {
    owner: 'Athena and Glue have no object owner: Glue’s Owner field is "not used in the normal course of AWS Glue operations"; access is IAM and Lake Formation permissions',
    tags: 'Glue resource tags do not apply to tables, and Lake Formation LF-Tags are another service (future work)',
    description:
      'Athena sets table descriptions only: a column comment needs ALTER TABLE ... CHANGE COLUMN, which restates the type, and a Glue database description needs UpdateDatabase, which replaces the whole database (docs/athena.md)',
  },
};

/** Amazon Athena over the Glue Data Catalog: database = data catalog, schema = Glue database. */
export const athenaConnector: Connector = {
  type: 'athena',
  displayName: 'Amazon Athena',
  capabilities: ATHENA_CAPABILITIES,
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      concurrency: { type: 'integer', minimum: 1, maximum: 20, description: 'Requests in flight at once: Glue databases read, DDL queries run (default 4).' },
      pollIntervalMs: { type: 'integer', minimum: 1, maximum: 60000, description: 'First wait before GetQueryExecution, doubled up to 2 s (default 250).' },
    },
  },
  dialect: () => athenaDialect,
  // Glue stores database and table names in lower case (docs.aws.amazon.com/athena/latest/ug/tables-databases-columns-names.html).
  canonicalName: (name) => name.toLowerCase(),
  render: (changes, snapshot) => renderAthena(changes, snapshot),
  describeTarget: describeAthenaTarget,
  connect: (service) => AthenaSession.open(service),
};
