import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { loadProject } from '../src/core/project.js';
import { MetaformErrors, MetaformError } from '../src/core/errors.js';
import type { Change } from '../src/core/model.js';
import { quoteRedshiftLiteral, redshiftCanonicalName, renderRedshiftChange } from '../src/connectors/redshift/dialect.js';
import { startPglite, startServerPostgres, type TestPostgres } from './support/postgres.js';
import { tempProject } from './support/project.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS } from './support/strings.js';

function change(partial: Partial<Change> & Pick<Change, 'path' | 'level' | 'property'>): Change {
  return { id: 'x', service: 'rs', address: 'rs.x', action: 'add', before: null, after: 'v', ...partial };
}

describe('Redshift dialect', () => {
  it('doubles backslashes as well as quotes in literals', () => {
    assert.equal(quoteRedshiftLiteral(`it's a \\ back\\slash`), `'it''s a \\\\ back\\\\slash'`);
    assert.equal(quoteRedshiftLiteral(null), 'NULL');
  });

  it('folds names to lower case, as Redshift does by default', () => {
    assert.equal(redshiftCanonicalName('Orders'), 'orders');
  });

  it('comments views as VIEW, changes their owner with ALTER TABLE, and removes with NULL', () => {
    const view = { level: 'table' as const, name: 'v', children: new Map(), facts: { relkind: 'v' } };
    assert.deepEqual(renderRedshiftChange(change({ path: ['dev', 's', 'v'], level: 'table', property: 'description', after: null }), view), {
      statements: [`COMMENT ON VIEW "s"."v" IS NULL`],
    });
    assert.deepEqual(renderRedshiftChange(change({ path: ['dev', 's', 'v'], level: 'table', property: 'owner', after: 'Ann' }), view), {
      statements: [`ALTER TABLE "s"."v" OWNER TO "Ann"`],
    });
    assert.deepEqual(renderRedshiftChange(change({ path: ['dev'], level: 'database', property: 'description', after: 'd' }), undefined), {
      statements: [`COMMENT ON DATABASE "dev" IS 'd'`],
    });
  });

  it('skips with a reason what Redshift cannot store', () => {
    const rendered = renderRedshiftChange(change({ path: ['dev', 's'], level: 'schema', property: 'description', after: 'a\0b' }), undefined);
    assert.deepEqual(rendered, { skip: 'Redshift text cannot hold a NUL character' });
  });
});

/**
 * What Redshift shares with PostgreSQL (catalog tables, COMMENT, OWNER) runs on PostgreSQL with
 * standard_conforming_strings off, where '...' literals read backslash escapes as Redshift's do:
 * a literal the Redshift dialect escaped wrongly would not read back byte-identical.
 */
function sharedSuite(name: string, start: () => Promise<TestPostgres | { skip: string }>) {
  describe(`Redshift connector on ${name} (backslash-escaping literals)`, () => {
    let db: TestPostgres | undefined;
    let skip: string | undefined;
    before(async () => {
      const started = await start();
      if ('skip' in started) skip = started.skip;
      else {
        db = started;
        // PGlite serves every connection from one backend session, where startup options do not apply.
        if (db.kind === 'pglite') await db.query('SET standard_conforming_strings = off; SET escape_string_warning = off');
        await db.query(`CREATE SCHEMA sales; CREATE TABLE sales.orders (id int, note text); CREATE VIEW sales.recent AS SELECT * FROM sales.orders`);
      }
    });
    after(() => db?.close());

    it('round-trips hostile and generated descriptions byte-identical, with folded names', async (t) => {
      if (skip || !db) return t.skip(skip);
      const descriptions = [...HOSTILE_DESCRIPTIONS, ...generatedStrings(20, 7)];
      const project = await tempProject(
        {
          version: 1,
          services: {
            rs: { type: 'redshift', connection: { ...db.connection, options: '-c standard_conforming_strings=off -c escape_string_warning=off' } },
          },
        },
        {
          'metadata/rs.yaml': {
            service: 'rs',
            database: db.connection.database,
            schemas: {
              Sales: {
                description: descriptions.join('\u2028'),
                tables: { ORDERS: { description: descriptions[1], columns: { Note: descriptions[2], id: descriptions[5] } }, recent: descriptions[7] },
              },
            },
          },
        },
      );
      try {
        const loaded = await loadProject(project.dir);
        const { plan, queries } = await createPlan(loaded);
        assert.equal(queries, 4);
        assert.equal(plan.changes.length, 5);
        assert.ok(plan.operations.every((operation) => operation.statements.every((statement) => !statement.includes("E'"))));
        const report = await applyPlan(loaded, plan);
        assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((op) => op.error)));
        const rows = await db.query(
          `SELECT obj_description('sales'::regnamespace, 'pg_namespace') AS s, obj_description('sales.orders'::regclass, 'pg_class') AS t,
                  col_description('sales.orders'::regclass, 2) AS note, obj_description('sales.recent'::regclass, 'pg_class') AS v`,
        );
        assert.deepEqual(rows.rows[0], { s: descriptions.join('\u2028'), t: descriptions[1], note: descriptions[2], v: descriptions[7] });
        assert.equal((await createPlan(loaded)).plan.changes.length, 0);
      } finally {
        await project.remove();
      }
    });

    it('treats two spellings of one folded name as a conflict', async (t) => {
      if (skip || !db) return t.skip(skip);
      const project = await tempProject(
        { version: 1, services: { rs: { type: 'redshift', connection: db.connection } } },
        {
          'metadata/a.yaml': { service: 'rs', database: 'dev', schemas: { sales: { description: 'a' } } },
          'metadata/b.yaml': { service: 'rs', database: 'dev', schemas: { SALES: { tables: { t: 'x' } } } },
        },
      );
      try {
        await assert.rejects(loadProject(project.dir), (error: unknown) => {
          assert.ok(error instanceof MetaformError || error instanceof MetaformErrors);
          assert.match(String(error), /metadata\/b\.yaml:4:3: schema "SALES" and "sales" resolve to the same object rs\.dev\.sales; the other is at metadata\/a\.yaml:4:3/);
          return true;
        });
      } finally {
        await project.remove();
      }
    });
  });
}

sharedSuite('PGlite', startPglite);
sharedSuite('the local PostgreSQL server', startServerPostgres);
