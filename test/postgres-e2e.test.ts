import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadProject } from '../src/core/project.js';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { StalePlanError } from '../src/core/verify.js';
import { statementsOf } from './support/plan.js';
import { importService } from '../src/core/import.js';
import { MetaformError, MetaformErrors } from '../src/core/errors.js';
import { readRuns } from '../src/core/journal.js';
import { startPglite, startServerPostgres, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS, HOSTILE_IDENTIFIERS } from './support/strings.js';
import { join } from 'node:path';

const ROLE_SUFFIX = `${process.pid}`;
const OWNER = `mf_owner_${ROLE_SUFFIX}`;

async function createWarehouse(db: TestPostgres): Promise<void> {
  const { schema, table, column } = HOSTILE_IDENTIFIERS;
  const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
  await db.query(`
    DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${OWNER}') THEN CREATE ROLE ${OWNER}; END IF; END $$;
    CREATE SCHEMA sales;
    CREATE TABLE sales.orders (id int PRIMARY KEY, email text, amount numeric);
    CREATE VIEW sales.big_orders AS SELECT * FROM sales.orders WHERE amount > 100;
    CREATE MATERIALIZED VIEW sales.daily AS SELECT count(*) AS n FROM sales.orders;
    CREATE TABLE sales.events (id int, at date) PARTITION BY RANGE (at);
    CREATE TABLE sales.events_2026 PARTITION OF sales.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    CREATE SCHEMA ${q(schema)};
    CREATE TABLE ${q(schema)}.${q(table)} (${q(column)} numeric, "MixedCase" int);
    CREATE TABLE sales.wide (${Array.from({ length: 40 }, (_, i) => `c${i} int`).join(', ')});
    COMMENT ON TABLE sales.orders IS 'old description';
  `);
}

function desiredWarehouse(database: string): object {
  const { schema, table, column } = HOSTILE_IDENTIFIERS;
  return {
    service: 'warehouse',
    database,
    description: 'The analytics warehouse',
    schemas: {
      sales: {
        description: 'Sales data mart',
        owners: [OWNER],
        tables: {
          orders: {
            description: 'One row per order',
            owners: ['jane@corp.com'],
            columns: { id: 'Primary key', email: { description: 'Buyer email' } },
          },
          big_orders: 'Orders over 100',
          daily: { description: 'Daily count', owners: [OWNER] },
          events: 'Partitioned events',
          wide: {
            columns: Object.fromEntries(generatedStrings(40).map((text, i) => [`c${i}`, text])),
          },
        },
      },
      [schema]: {
        description: HOSTILE_DESCRIPTIONS[0],
        tables: {
          [table]: {
            description: HOSTILE_DESCRIPTIONS.join('|'),
            columns: { [column]: HOSTILE_DESCRIPTIONS[6], MixedCase: HOSTILE_DESCRIPTIONS[4] },
          },
        },
      },
    },
  };
}

function config(db: TestPostgres): object {
  return {
    version: 1,
    services: {
      warehouse: {
        type: 'postgres',
        connection: { ...db.connection, password: '${PG_TEST_PASSWORD:-}' },
        owners: { map: { 'jane@corp.com': OWNER } },
      },
    },
  };
}

function engineSuite(name: string, start: () => Promise<TestPostgres | { skip: string }>) {
  describe(`PostgreSQL end to end on ${name}`, () => {
    let db: TestPostgres | undefined;
    let skip: string | undefined;
    let project: TempProject;

    before(async () => {
      const started = await start();
      if ('skip' in started) {
        skip = started.skip;
        return;
      }
      db = started;
      await createWarehouse(db);
      project = await tempProject(config(db), { 'metadata/warehouse.yaml': desiredWarehouse(db.connection.database) });
    });
    after(async () => {
      await project?.remove();
      await db?.close();
    });

    const live = () => db as TestPostgres;

    it('plans, applies, and converges to no changes', async (t) => {
      if (skip) return t.skip(skip);
      const loaded = await loadProject(project.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 4, 'a fixed number of catalog queries per database');
      assert.ok(plan.summary.add >= 45 && plan.summary.update >= 4, `expected many additions, got ${JSON.stringify(plan.summary)}`);
      assert.equal(plan.summary.skipped, 0);
      const orders = plan.changes.find((change) => change.id === 'warehouse.' + live().connection.database + '.sales.orders#description');
      assert.equal(orders?.action, 'update');
      assert.equal(orders?.before, 'old description');
      assert.deepEqual(statementsOf(plan, orders), [`COMMENT ON TABLE "sales"."orders" IS 'One row per order'`]);
      const view = plan.changes.find((change) => change.address.endsWith('.sales.big_orders'));
      assert.match(statementsOf(plan, view)[0] ?? '', /^COMMENT ON VIEW "sales"."big_orders"/);
      const matview = plan.changes.find((change) => change.address.endsWith('.sales.daily') && change.property === 'description');
      assert.match(statementsOf(plan, matview)[0] ?? '', /^COMMENT ON MATERIALIZED VIEW/);
      const owner = plan.changes.find((change) => change.address.endsWith('.sales.orders') && change.property === 'owner');
      assert.equal(owner?.after, OWNER, 'owners are mapped from catalog principals to roles');

      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.filter((op) => op.outcome !== 'succeeded'), null, 1));
      const again = await createPlan(loaded);
      assert.deepEqual(again.plan.changes.map((change) => change.id), []);
    });

    it('reads every hostile description and identifier back byte-identical', async (t) => {
      if (skip) return t.skip(skip);
      const { schema, table, column } = HOSTILE_IDENTIFIERS;
      const rows = await live().query(
        `SELECT obj_description(c.oid, 'pg_class') AS t, col_description(c.oid, 1) AS c1, col_description(c.oid, 2) AS c2
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
        [schema, table],
      );
      assert.equal(rows.rows[0]?.t, HOSTILE_DESCRIPTIONS.join('|'));
      assert.equal(rows.rows[0]?.c1, HOSTILE_DESCRIPTIONS[6]);
      assert.equal(rows.rows[0]?.c2, HOSTILE_DESCRIPTIONS[4]);
      const wide = await live().query(
        `SELECT a.attname, col_description(a.attrelid, a.attnum) AS d FROM pg_attribute a
         WHERE a.attrelid = 'sales.wide'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
      );
      assert.deepEqual(
        wide.rows.map((row: { d: string }) => row.d),
        generatedStrings(40),
      );
      void column;
    });

    it('reports a failed operation without hiding the others, and the next plan shows what is left', async (t) => {
      if (skip) return t.skip(skip);
      const database = live().connection.database;
      await project.write('metadata/more.yaml', {
        service: 'warehouse',
        database,
        schemas: {
          sales: {
            tables: {
              events_2026: { description: 'This year', owners: ['no_such_role_anywhere'] },
              orders: { columns: { amount: 'Order amount' } },
            },
          },
        },
      });
      const loaded = await loadProject(project.dir);
      const { plan } = await createPlan(loaded);
      assert.equal(plan.changes.length, 3);
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 1);
      assert.equal(report.succeeded, 2);
      const failed = report.run.operations.find((op) => op.outcome === 'failed');
      assert.match(failed?.error ?? '', /no_such_role_anywhere/);
      const runs = await readRuns(join(project.dir, '.metaform'), 5);
      assert.equal(runs.runs[0]?.summary.failed, 1);
      const left = await createPlan(loaded);
      assert.deepEqual(
        left.plan.changes.map((change) => change.id),
        [`warehouse.${database}.sales.events_2026#owner`],
      );
      await project.write('metadata/more.yaml', { service: 'warehouse', database, schemas: { sales: { tables: { events_2026: 'This year', orders: { columns: { amount: 'Order amount' } } } } } });
    });

    it('refuses a stale saved plan', async (t) => {
      if (skip) return t.skip(skip);
      await live().query(`COMMENT ON TABLE sales.orders IS 'edited by hand'`);
      const loaded = await loadProject(project.dir);
      const { plan } = await createPlan(loaded);
      assert.equal(plan.changes.length, 1);
      await live().query(`COMMENT ON TABLE sales.orders IS 'edited again'`);
      await assert.rejects(applyPlan(loaded, JSON.parse(JSON.stringify(plan))), StalePlanError);
      const fresh = await createPlan(loaded);
      const report = await applyPlan(loaded, fresh.plan);
      assert.equal(report.failed, 0);
    });

    it('imports YAML that plans to no changes', async (t) => {
      if (skip) return t.skip(skip);
      const loaded = await loadProject(project.dir);
      const files = await importService(loaded, 'warehouse');
      assert.equal(files.length, 1);
      const imported = await tempProject(config(live()), Object.fromEntries(files.map((file) => [file.path, file.content])));
      try {
        assert.match(files[0]?.content ?? '', /yaml-language-server: \$schema=/);
        const { plan } = await createPlan(await loadProject(imported.dir));
        assert.deepEqual(plan.changes.map((change) => change.id), []);
      } finally {
        await imported.remove();
      }
    });

    it('names objects missing at the source, or warns with allowMissing', async (t) => {
      if (skip) return t.skip(skip);
      const database = live().connection.database;
      await project.write('metadata/missing.yaml', { service: 'warehouse', database, schemas: { sales: { tables: { nope: 'x' } } } });
      try {
        const loaded = await loadProject(project.dir);
        await assert.rejects(createPlan(loaded), (error: unknown) => {
          assert.ok(error instanceof MetaformError);
          assert.match(String(error), /metadata\/missing\.yaml:\d+:\d+: table warehouse\..*\.sales\.nope does not exist at the source/);
          return true;
        });
        const { plan } = await createPlan(loaded, { allowMissing: true });
        assert.equal(plan.warnings.length, 1);
      } finally {
        await project.write('metadata/missing.yaml', '');
      }
    });

    it('renders custom templates with dialect quoting', async (t) => {
      if (skip) return t.skip(skip);
      const database = live().connection.database;
      const withTemplates = await tempProject(
        {
          version: 1,
          services: {
            warehouse: {
              type: 'postgres',
              connection: live().connection,
              templates: { 'table.description': 'COMMENT ON TABLE {object} IS {value} /* {raw.table} */' },
            },
          },
        },
        { 'metadata/a.yaml': { service: 'warehouse', database, schemas: { sales: { tables: { orders: "it's templated" } } } } },
      );
      try {
        const loaded = await loadProject(withTemplates.dir);
        const { plan } = await createPlan(loaded);
        assert.deepEqual(statementsOf(plan, plan.changes[0]), [`COMMENT ON TABLE "sales"."orders" IS 'it''s templated' /* orders */`]);
        assert.equal((await applyPlan(loaded, plan)).failed, 0);
        assert.equal((await createPlan(loaded)).plan.changes.length, 0);
      } finally {
        await withTemplates.remove();
      }
    });

    it('rejects two owners before connecting', async (t) => {
      if (skip) return t.skip(skip);
      const bad = await tempProject(config(live()), {
        'metadata/a.yaml': { service: 'warehouse', database: 'x', schemas: { s: { owners: ['a', 'b'] } } },
      });
      try {
        await assert.rejects(loadProject(bad.dir), (error: unknown) => {
          assert.ok(error instanceof MetaformError || error instanceof MetaformErrors);
          assert.match(String(error), /metadata\/a\.yaml:\d+:\d+: .*lists 2 owners; PostgreSQL \(postgres\) allows 1 per schema/);
          return true;
        });
      } finally {
        await bad.remove();
      }
    });
  });
}

engineSuite('PGlite (in-process, over its socket)', startPglite);
engineSuite('the local PostgreSQL server', startServerPostgres);
