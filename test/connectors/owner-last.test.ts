/**
 * Owner last on PostgreSQL (PGlite and the server): logged in as the role that owns a table, a
 * change of its description, a column's description and its owner applies with no failure.
 * "ALTER TABLE ... OWNER TO" hands the table over at once; the old owner, a NOINHERIT member of
 * the new owner (PostgreSQL 15: "you must be a direct or indirect member of the new owning role",
 * postgresql.org/docs/15/sql-altertable.html), may not COMMENT ON it afterwards ("must be owner").
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPlan, createPlan } from '../../src/core/pipeline.js';
import { loadProject } from '../../src/core/project.js';
import { startPglite, startServerPostgres, type TestPostgres } from '../support/postgres.js';
import { tempProject } from '../support/project.js';

for (const kind of ['pglite', 'server'] as const) {
  describe(`owner last on PostgreSQL (${kind})`, () => {
    let db: TestPostgres | undefined;
    let skip: string | undefined;
    const steward = `mf_steward_${process.pid}_${kind}`;
    const platform = `mf_platform_${process.pid}_${kind}`;
    before(async () => {
      const started = kind === 'pglite' ? await startPglite() : await startServerPostgres();
      if ('skip' in started) {
        skip = started.skip;
        return;
      }
      db = started;
      await db.query(`CREATE ROLE ${steward} LOGIN NOINHERIT; CREATE ROLE ${platform}; GRANT ${platform} TO ${steward};
        CREATE SCHEMA shop; GRANT USAGE, CREATE ON SCHEMA shop TO ${platform}, ${steward};
        CREATE TABLE shop.orders (id int, note text); ALTER TABLE shop.orders OWNER TO ${steward}`);
      // PGlite serves one session to every connection and ignores the login user: the session is
      // switched to the steward, which is what a login as the steward gives on a server.
      if (kind === 'pglite') await db.query(`SET ROLE ${steward}`);
    });
    after(async () => {
      if (!db) return;
      if (kind === 'pglite') await db.query('RESET ROLE');
      await db.query(`DROP TABLE shop.orders; DROP SCHEMA shop; DROP ROLE ${platform}; DROP ROLE ${steward}`);
      await db.close();
    });

    it('changes description, a column description and the owner as the owning role, the owner change last', async (t) => {
      if (!db) return t.skip(skip);
      const project = await tempProject(
        { version: 1, services: { pg: { type: 'postgres', connection: { ...db.connection, user: steward } } } },
        {
          'metadata/pg.yaml': {
            service: 'pg',
            database: db.connection.database,
            schemas: { shop: { tables: { orders: { description: 'handed over', owners: [platform], columns: { note: 'a note' } } } } },
          },
        },
      );
      try {
        const loaded = await loadProject(project.dir);
        const { plan } = await createPlan(loaded);
        const owner = plan.operations.find((operation) => operation.statements.some((statement) => statement.includes('OWNER TO')));
        assert.deepEqual(owner?.dependsOn?.length, 2);
        const report = await applyPlan(loaded, JSON.parse(JSON.stringify(plan)));
        assert.deepEqual(report.run.operations.filter((operation) => operation.outcome !== 'succeeded').map((operation) => [operation.id, operation.error]), []);
        const again = await createPlan(loaded);
        assert.deepEqual(again.plan.changes, []);
        const rows = await db.query(`SELECT pg_get_userbyid(relowner) AS owner, obj_description('shop.orders'::regclass, 'pg_class') AS comment FROM pg_class WHERE oid = 'shop.orders'::regclass`);
        assert.deepEqual(rows.rows[0], { owner: platform, comment: 'handed over' });
      } finally {
        await project.remove();
      }
    });
  });
}
