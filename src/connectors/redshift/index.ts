import { renderEachChange } from '../shared/render.js';
import { connectionSchema, HOST_SETTINGS } from '../shared/connection.js';
import type { Connector } from '../types.js';
import { POSTGRES_CAPABILITIES, tableOf } from '../postgres/index.js';
import { connectionStringDatabase, describePgTarget, PgFamilySession } from '../postgres/client.js';
import { readRedshiftDatabase } from './catalog.js';
import { redshiftCanonicalName, redshiftDialect, renderRedshiftChange } from './dialect.js';

export const redshiftConnector: Connector = {
  type: 'redshift',
  displayName: 'Amazon Redshift',
  capabilities: POSTGRES_CAPABILITIES,
  dialect: () => redshiftDialect,
  canonicalName: redshiftCanonicalName,
  render(changes, snapshot) {
    return renderEachChange(changes, (change) => renderRedshiftChange(change, tableOf(change, snapshot)));
  },
  connectionSchema: connectionSchema({ text: HOST_SETTINGS, booleans: ['keepAlive'] }),
  describeTarget: (service) => describePgTarget(service, 5439),
  connectionDatabase: (service) => connectionStringDatabase(service.connection),
  async connect(service) {
    const session = new PgFamilySession(service, {
      displayName: 'Redshift',
      readDatabase: readRedshiftDatabase,
      // Redshift has no advisory locks: apply re-reads what it touches, but cannot keep a
      // concurrent apply out.
      advisoryLocks: false,
      defaultPort: 5439,
    });
    await session.open();
    return session;
  },
};
