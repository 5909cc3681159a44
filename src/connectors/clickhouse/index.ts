import { findLive } from '../../core/model.js';
import type { Connector } from '../types.js';
import { ClickhouseSession, describeClickhouseTarget } from './client.js';
import { clickhouseDialect, renderClickhouse } from './dialect.js';

export const clickhouseConnector: Connector = {
  type: 'clickhouse',
  displayName: 'ClickHouse',
  capabilities: {
    description: ['table', 'column'],
    owner: [],
    tags: [],
    maxOwners: 0,
    ownerRemovable: true,
    // A ClickHouse database is metaform's schema level; its comment needs ClickHouse 25.4+.
    serverDependent: { description: ['schema'] },
  },
  dialect: () => clickhouseDialect,
  render(changes, snapshot, service) {
    const cluster = service.options['cluster'];
    const engineOf = (tablePath: readonly string[]) => {
      const engine = findLive(snapshot, tablePath)?.facts?.['engine'];
      return typeof engine === 'string' ? engine : undefined;
    };
    return renderClickhouse(changes, snapshot.server, typeof cluster === 'string' ? cluster : undefined, engineOf);
  },
  describeTarget: describeClickhouseTarget,
  connect: (service) => ClickhouseSession.open(service),
};
