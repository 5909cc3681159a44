import type { Connector } from '../types.js';
import { ORACLE_DATABASE } from './catalog.js';
import { describeOracleTarget, OracleSession } from './client.js';
import { ORACLE_COMMENT_BYTES, oracleDialect, renderOracle } from './dialect.js';
import { storedName } from './names.js';

export const oracleConnector: Connector = {
  type: 'oracle',
  displayName: 'Oracle',
  singleDatabase: ORACLE_DATABASE,
  capabilities: {
    // Oracle comments tables, views, materialized views and columns; a schema is a user, with no comment.
    description: ['table', 'column'],
    // An object's owner is its schema: moving it is recreating it elsewhere.
    owner: [],
    tags: [],
    maxOwners: 0,
    ownerRemovable: true,
    // COMMENTS is VARCHAR2(4000): bytes of the database character set, AL32UTF8 assumed.
    descriptionBytes: { limit: ORACLE_COMMENT_BYTES, encoding: 'utf8' },
    unsupported: {
      owner: "an Oracle object's owner is its schema: moving it means recreating the object in another schema",
      tags: 'schema annotations (23ai, 19.28+) are not managed yet',
      description: 'Oracle has comments on tables, views, materialized views and columns only (a schema is a user)',
    },
  },
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  dialect: () => oracleDialect,
  // The one database is metaform's `default`; below it, names fold as Oracle folds them.
  canonicalName: (name, level) => (level === 'database' ? name : storedName(name)),
  render: (changes, snapshot) => renderOracle(changes, snapshot),
  describeTarget: describeOracleTarget,
  connect: (service) => OracleSession.open(service),
};
