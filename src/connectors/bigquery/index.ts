import type { Connector } from '../types.js';
import { BigQuerySession, connectionOf, describeBigQueryTarget } from './client.js';
import { bigQueryDialect, renderBigQuery } from './dialect.js';
import { checkLabelKey, checkLabelValue, MAX_LABEL_LENGTH, MAX_LABELS } from './labels.js';

/**
 * BigQuery: database = the project, schema = the dataset. Descriptions on datasets, tables
 * (views, materialized views and external tables too) and columns, nested RECORD fields as
 * `a.b`; labels as tags on datasets and tables. The client (client.ts) is imported only when a
 * BigQuery service connects.
 */
export const bigQueryConnector: Connector = {
  type: 'bigquery',
  displayName: 'BigQuery',
  capabilities: {
    description: ['schema', 'table', 'column'],
    owner: [],
    tags: ['schema', 'table'],
    maxOwners: 0,
    ownerRemovable: true,
    tagLimits: { perObject: MAX_LABELS, valueLength: MAX_LABEL_LENGTH },
    unsupported: {
      owner: 'BigQuery has no object owner; dataset access entries and IAM roles are permissions, not ownership',
      tags: 'BigQuery labels exist on datasets and tables only (a project has none that metaform manages, columns have policy tags, which are access control)',
      description: 'a BigQuery project has no description',
    },
  },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      concurrency: { type: 'integer', minimum: 1, maximum: 64, description: 'Statements in flight at once during apply (default 4).' },
    },
  },
  // import reads the connection's project unless told otherwise.
  defaultDatabases: (service) => [connectionOf(service).projectId],
  dialect: bigQueryDialect,
  canonicalTagKey: (key) => checkLabelKey(key),
  checkTagValue: (key, value) => checkLabelValue(key, value),
  render: (changes, snapshot, _service, server) => renderBigQuery(changes, snapshot, server),
  describeTarget: describeBigQueryTarget,
  connect: (service) => BigQuerySession.open(service),
};
