import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Parameters, schemaCondition } from '../src/connectors/shared/schemas.js';
import { POSTGRES_CATALOG, readPostgresDatabase, type ArrayQueryable } from '../src/connectors/postgres/catalog.js';

/** Answers each catalog query with fixed rows, as pg would with rowMode 'array'. */
function catalogRows(columns: unknown[][]): ArrayQueryable {
  const every = schemaCondition('n.nspname', { read: 'every' }, POSTGRES_CATALOG.system, new Parameters('dollar').add);
  const rows = new Map<string, unknown[][]>([
    [POSTGRES_CATALOG.database, [['db', 'PostgreSQL 15', 'on', 'owner', null]]],
    [POSTGRES_CATALOG.schemas(every), [['s', 'owner', null]]],
    [POSTGRES_CATALOG.tables(every), [['s', 'a', 'r', 'owner', null, 1], ['s', 'b', 'r', 'owner', null, 2]]],
    [POSTGRES_CATALOG.columns(every), columns],
  ]);
  return { query: async ({ text }) => ({ rows: rows.get(text) ?? [] }) };
}

describe('PostgreSQL catalog reader', () => {
  it('keeps columns in attnum order whatever order the server sends them in', async () => {
    // Interleaved tables, b out of order, a column of a table created after the tables query.
    const read = await readPostgresDatabase(
      catalogRows([
        [1, 1, 'a1', null],
        [2, 3, 'b3', 'third'],
        [1, 2, 'a2', null],
        [2, 1, 'b1', null],
        [3, 1, 'new', null],
        [2, 2, 'b2', null],
      ]),
      POSTGRES_CATALOG,
      undefined,
    );
    const table = (name: string) => read.database.children.get('s')?.children.get(name);
    assert.deepEqual([...(table('a')?.children.keys() ?? [])], ['a1', 'a2']);
    assert.deepEqual([...(table('b')?.children.keys() ?? [])], ['b1', 'b2', 'b3']);
    assert.equal(table('b')?.children.get('b3')?.description, 'third');
    assert.equal(read.queries, 4);
  });

  it('reads nothing below the database when no schema is named: one query', async () => {
    const read = await readPostgresDatabase(catalogRows([[1, 1, 'a1', null]]), POSTGRES_CATALOG, []);
    assert.equal(read.queries, 1);
    assert.equal(read.database.children.size, 0);
    assert.equal(read.database.owner, 'owner');
  });
});
