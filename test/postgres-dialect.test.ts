import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change, LiveObject } from '../src/core/model.js';
import { postgresDialect, renderPostgresChange } from '../src/connectors/postgres/dialect.js';

const change = (partial: Partial<Change> & Pick<Change, 'path' | 'level' | 'property'>): Change => ({
  id: 'x',
  service: 's',
  address: 'a',
  action: 'update',
  before: 'b',
  after: 'v',
  ...partial,
});
const table = (relkind: string): LiveObject => ({ level: 'table', name: 't', children: new Map(), facts: { relkind } });

describe('PostgreSQL dialect', () => {
  it('doubles quotes in identifiers and literals; plain literals only without a backslash', () => {
    const dialect = postgresDialect({ standardConformingStrings: true });
    assert.equal(dialect.quoteIdentifier('a "b".c'), '"a ""b"".c"');
    assert.equal(dialect.quoteLiteral(`it's n`), `'it''s n'`);
    assert.equal(dialect.quoteLiteral(`it's \\n`), `E'it''s \\\\n'`);
    assert.equal(dialect.quoteLiteral(null), 'NULL');
    assert.equal(dialect.qualifiedName(['s', 't', 'c']), '"s"."t"."c"');
  });

  it('writes a literal that reads the same whatever standard_conforming_strings says', () => {
    for (const standardConformingStrings of [true, false])
      assert.equal(postgresDialect({ standardConformingStrings }).quoteLiteral(`a\\b'c`), `E'a\\\\b''c'`);
  });

  it('uses the keyword of each relation kind', () => {
    const dialect = postgresDialect({});
    const render = (relkind: string, property: 'description' | 'owner') =>
      renderPostgresChange(change({ path: ['db', 's', 't'], level: 'table', property, after: 'r' }), dialect, table(relkind));
    assert.deepEqual(render('m', 'description'), { statements: [`COMMENT ON MATERIALIZED VIEW "s"."t" IS 'r'`] });
    assert.deepEqual(render('f', 'owner'), { statements: [`ALTER FOREIGN TABLE "s"."t" OWNER TO "r"`] });
    assert.deepEqual(render('p', 'owner'), { statements: [`ALTER TABLE "s"."t" OWNER TO "r"`] });
    assert.deepEqual(render('v', 'owner'), { statements: [`ALTER VIEW "s"."t" OWNER TO "r"`] });
    assert.deepEqual(
      renderPostgresChange(change({ path: ['My DB'], level: 'database', property: 'description', after: null }), dialect, undefined),
      { statements: [`COMMENT ON DATABASE "My DB" IS NULL`] },
    );
    assert.deepEqual(
      renderPostgresChange(change({ path: ['db', 's', 'v', 'c'], level: 'column', property: 'description' }), dialect, table('v')),
      { statements: [`COMMENT ON COLUMN "s"."v"."c" IS 'v'`] },
    );
  });

  it('skips what PostgreSQL cannot store, with the reason', () => {
    const rendered = renderPostgresChange(change({ path: ['db', 's'], level: 'schema', property: 'description', after: 'nul\0here' }), postgresDialect({}), undefined);
    assert.deepEqual(rendered, { skip: 'PostgreSQL text cannot hold a NUL character' });
  });
});
