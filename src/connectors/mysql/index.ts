import { connectionSchema, HOST_SETTINGS } from '../shared/connection.js';
import type { Connector } from '../types.js';
import { describeMysqlTarget, MysqlSession } from './client.js';
import { mysqlCanonicalName, mysqlDialect, renderMysql } from './dialect.js';
import { MYSQL_DATABASE } from './catalog.js';

export const mysqlConnector: Connector = {
  type: 'mysql',
  displayName: 'MySQL/MariaDB',
  singleDatabase: MYSQL_DATABASE,
  capabilities: {
    description: ['table', 'column'],
    owner: [],
    tags: [],
    maxOwners: 0,
    ownerRemovable: true,
    // A MySQL database is metaform's schema level; only MariaDB 10.5+ can comment it.
    serverDependent: { description: ['schema'] },
  },
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  dialect: mysqlDialect,
  canonicalName: mysqlCanonicalName,
  render: (changes, snapshot) => renderMysql(changes, snapshot),
  connectionSchema: connectionSchema({ text: HOST_SETTINGS, booleans: ['insecureAuth', 'enableKeepAlive'] }),
  describeTarget: describeMysqlTarget,
  connect: (service) => MysqlSession.open(service),
};
