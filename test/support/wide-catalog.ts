import type { Connector, ServiceConfig } from '../../src/connectors/types.js';
import { connectorFor } from '../../src/connectors/registry.js';
import type { DesiredObject } from '../../src/core/desired.js';
import { diffService } from '../../src/core/diff.js';
import { liveChild, newLiveObject, type CatalogSnapshot, type JsonValue } from '../../src/core/model.js';
import { assemblePlan, type Plan } from '../../src/core/plan.js';

/** The shape of a wide catalog: `tables` tables of `columns` columns in one schema, every column described in YAML and none live. */
export interface WideCatalog {
  type: 'postgres' | 'mysql' | 'clickhouse';
  tables: number;
  columns: number;
  /** The description of column `column` of table `table` (default: a short sentence). */
  describe?: (table: number, column: number) => string;
}

const at = { file: 'metadata/wide.yaml', line: 1, col: 1 };

const SERVER: Record<WideCatalog['type'], Record<string, JsonValue>> = {
  postgres: { version: '16.4' },
  mysql: { version: '10.11.8-MariaDB', commentCharset: 'utf8mb4' },
  clickhouse: { version: '25.8' },
};

export const tableName = (table: number) => `t${table}`;
export const columnName = (column: number) => `c${column}`;
const defaultDescription = (table: number, column: number) => `Column ${column} of table ${table}`;

export function wideService(type: WideCatalog['type']): ServiceConfig {
  return { name: 'wh', type, connection: {}, tags: { prune: false }, owners: { map: {} }, templates: {}, options: {} };
}

function connector(type: WideCatalog['type']): Connector {
  const found = connectorFor(type);
  if (!found) throw new Error(`no connector ${type}`);
  return found;
}

/** Desired state and live snapshot in memory, as the loader and a catalog read would build them. */
export function wideInputs(shape: WideCatalog): { service: ServiceConfig; desired: Map<string, DesiredObject>; snapshot: CatalogSnapshot } {
  const describe = shape.describe ?? defaultDescription;
  const tables = new Map<string, DesiredObject>();
  const liveDatabase = newLiveObject('database', 'db');
  const liveSchema = liveChild(liveDatabase, 'schema', 's');
  for (let t = 0; t < shape.tables; t++) {
    const columns = new Map<string, DesiredObject>();
    const liveTable = liveChild(liveSchema, 'table', tableName(t));
    const definitions: string[] = [];
    for (let c = 0; c < shape.columns; c++) {
      const name = columnName(c);
      columns.set(name, { level: 'column', path: ['db', 's', tableName(t), name], declaredAt: at, description: { value: describe(t, c), at }, children: new Map() });
      liveChild(liveTable, 'column', name).description = null;
      definitions.push(`  \`${name}\` int(11) DEFAULT NULL`);
    }
    liveTable.description = null;
    if (shape.type === 'mysql') liveTable.facts = { tableType: 'BASE TABLE', createTable: `CREATE TABLE \`${tableName(t)}\` (\n${definitions.join(',\n')}\n) ENGINE=InnoDB` };
    if (shape.type === 'clickhouse') liveTable.facts = { engine: 'MergeTree' };
    tables.set(tableName(t), { level: 'table', path: ['db', 's', tableName(t)], declaredAt: at, children: columns });
  }
  const schema: DesiredObject = { level: 'schema', path: ['db', 's'], declaredAt: at, children: tables };
  const desired = new Map([['db', { level: 'database' as const, path: ['db'], declaredAt: at, children: new Map([['s', schema]]) }]]);
  const snapshot: CatalogSnapshot = { service: 'wh', databases: new Map([['db', liveDatabase]]), server: SERVER[shape.type], queries: 0 };
  return { service: wideService(shape.type), desired, snapshot };
}

/**
 * The plan that describes every column of a wide catalog, rendered by the real connector; with
 * `sliceChanges`, rendered that many changes at a time (the same plan, in smaller render calls).
 */
export function widePlan(shape: WideCatalog, sliceChanges?: number): Plan {
  const { service, desired, snapshot } = wideInputs(shape);
  const { changes } = diffService({ service, desired, snapshot });
  const slice = sliceChanges ?? Math.max(1, changes.length);
  const inputs = [];
  for (let start = 0; start < changes.length; start += slice)
    inputs.push({ connector: connector(shape.type), service, changes: changes.slice(start, start + slice), snapshot });
  return assemblePlan(inputs, { createdAt: '2026-01-01T00:00:00.000Z' });
}
