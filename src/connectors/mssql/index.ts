import { renderEachChange } from '../shared/render.js';
import type { Connector } from '../types.js';
import { describeMssqlTarget, MssqlSession } from './client.js';
import { mssqlCanonicalName, mssqlDialectFor, renderMssqlChange, tagKeyProblem, tagPrefixOf } from './dialect.js';

/**
 * SQL Server and Azure SQL: descriptions as the MS_Description extended property, owners by
 * ALTER AUTHORIZATION, tags (with options.tagPrefix) as prefixed extended properties. The driver
 * (client.ts) is imported only when a service of this type connects.
 */
export const mssqlConnector: Connector = {
  type: 'mssql',
  displayName: 'SQL Server',
  capabilities: {
    description: ['database', 'schema', 'table', 'column'],
    owner: ['database', 'schema', 'table'],
    tags: ['database', 'schema', 'table', 'column'],
    maxOwners: 1,
    ownerRemovable: false,
    // 7,500 bytes of nvarchar: 3,750 UTF-16 units (the byte count is checked again when rendering).
    tagLimits: { valueLength: 3750 },
    // @value is sql_variant: 7,500 bytes at most, nvarchar text being UTF-16.
    descriptionBytes: { limit: 7500, encoding: 'utf16le' },
  },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      tagPrefix: {
        type: 'string',
        minLength: 1,
        maxLength: 64,
        description: 'Extended properties whose names start with this prefix are tags (e.g. "tag:"); no other property is read or written as a tag.',
      },
    },
  },
  dialect: mssqlDialectFor,
  canonicalName: mssqlCanonicalName,
  canonicalTagKey(key, service) {
    const problem = tagKeyProblem(key, tagPrefixOf(service));
    return problem === undefined ? key : { error: problem, hint: 'set options.tagPrefix, and keep prefix + key within 128 characters' };
  },
  render: (changes, snapshot, service) => renderEachChange(changes, (change) => renderMssqlChange(change, snapshot, service)),
  describeTarget: (service) => describeMssqlTarget(service),
  connect: (service) => MssqlSession.open(service),
};
