import { findLive } from '../../core/model.js';
import type { Connector } from '../types.js';
import { ClickhouseSession, describeClickhouseTarget } from './client.js';
import { clickhouseDialect, renderClickhouse } from './dialect.js';
import { CLICKHOUSE_DATABASE } from './catalog.js';

export const clickhouseConnector: Connector = {
  type: 'clickhouse',
  displayName: 'ClickHouse',
  singleDatabase: CLICKHOUSE_DATABASE,
  capabilities: {
    description: ['table', 'column'],
    owner: [],
    tags: [],
    maxOwners: 0,
    ownerRemovable: true,
    // A ClickHouse database is metaform's schema level; its comment needs ClickHouse 25.4+.
    serverDependent: { description: ['schema'] },
  },
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      cluster: { type: 'string', minLength: 1, description: 'Runs every ALTER ON CLUSTER this cluster (Replicated tables keep comments per replica).' },
    },
  },
  dialect: () => clickhouseDialect,
  render(changes, snapshot, service) {
    const cluster = service.options['cluster'];
    return renderClickhouse(changes, snapshot.server, typeof cluster === 'string' ? cluster : undefined, (path) => findLive(snapshot, path)?.facts);
  },
  describeTarget: describeClickhouseTarget,
  connect: (service) => ClickhouseSession.open(service),
};
