import { connectionSchema, HOST_SETTINGS } from '../shared/connection.js';
import type { Change, LiveObject } from '../../core/model.js';
import { findLive } from '../../core/model.js';
import { renderEachChange } from '../shared/render.js';
import type { Capabilities, Connector } from '../types.js';
import { POSTGRES_CATALOG, readPostgresDatabase } from './catalog.js';
import { connectionStringDatabase, describePgTarget, PgFamilySession } from './client.js';
import { postgresDialect, renderPostgresChange } from './dialect.js';

export const POSTGRES_CAPABILITIES: Capabilities = {
  description: ['database', 'schema', 'table', 'column'],
  owner: ['database', 'schema', 'table'],
  tags: [],
  maxOwners: 1,
  ownerRemovable: false,
};

/** The live table a table or column change is about (its kind decides the SQL keyword). */
export function tableOf(change: Change, snapshot: Parameters<typeof findLive>[0]): LiveObject | undefined {
  return change.path.length >= 3 ? findLive(snapshot, change.path.slice(0, 3)) : undefined;
}

export const postgresConnector: Connector = {
  type: 'postgres',
  displayName: 'PostgreSQL',
  capabilities: POSTGRES_CAPABILITIES,
  dialect: postgresDialect,
  render(changes, snapshot, _service, server) {
    const dialect = postgresDialect(server);
    return renderEachChange(changes, (change) => renderPostgresChange(change, dialect, tableOf(change, snapshot)));
  },
  connectionSchema: connectionSchema({ text: HOST_SETTINGS, booleans: ['keepAlive'] }),
  describeTarget: (service) => describePgTarget(service, 5432),
  connectionDatabase: (service) => connectionStringDatabase(service.connection),
  async connect(service) {
    const session = new PgFamilySession(service, {
      displayName: 'PostgreSQL',
      readDatabase: (client, schemas) => readPostgresDatabase(client, POSTGRES_CATALOG, schemas),
      advisoryLocks: true,
      defaultPort: 5432,
    });
    await session.open();
    return session;
  },
};
