/**
 * The Oracle connector end to end: the real CLI and the unmodified node-oracledb (thin mode)
 * against the Oracle Net emulator, logged in as an ordinary schema user.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { OracleSession } from '../../../src/connectors/oracle/client.js';
import { renderOracle, quoteOracleLiteral } from '../../../src/connectors/oracle/dialect.js';
import { spellName, storedName } from '../../../src/connectors/oracle/names.js';
import { startOracleEmulator, type OracleEmulator } from '../../emulators/oracle/server.js';
import { metaform } from '../../support/cli.js';
import { tempProject, type TempProject } from '../../support/project.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS } from '../../support/strings.js';

describe('Oracle names and literals', () => {
  it('folds unquoted names, keeps quoted ones, and spells stored names back', () => {
    assert.equal(storedName('orders'), 'ORDERS');
    assert.equal(storedName('"Orders"'), 'Orders');
    assert.equal(storedName("Order's Items"), "Order's Items");
    for (const stored of ['ORDERS', 'Orders', "Order's Items", 'A$B#C', '_X', 'x y']) assert.equal(storedName(spellName(stored)), stored);
  });

  it("doubles quotes, leaves backslashes alone, and removes with IS ''", () => {
    assert.equal(quoteOracleLiteral(`it's \\`), `'it''s \\'`);
    const base = { service: 'ora', address: 'a', before: 'x' as string | null };
    const snapshot = { service: 'ora', server: {}, queries: 0, databases: new Map() };
    const rendered = renderOracle(
      [
        { ...base, id: '1', path: ['default', 'APP', 'ORDERS'], level: 'table', property: 'description', action: 'remove', after: null },
        { ...base, id: '2', path: ['default', 'APP', 'ORDERS', 'ID'], level: 'column', property: 'description', action: 'update', after: 'é'.repeat(2001) },
        { ...base, id: '3', path: ['default', 'APP', 'ORDERS', 'ID'], level: 'column', property: 'description', action: 'update', after: 'a\0b' },
      ],
      snapshot,
    );
    assert.deepEqual(rendered.operations.map((o) => o.statements), [[`COMMENT ON TABLE "APP"."ORDERS" IS ''`]]);
    assert.match(rendered.skipped[0]?.reason ?? '', /4002 bytes.*at most 4000/);
    assert.match(rendered.skipped[1]?.reason ?? '', /NUL/);
  });
});

describe('Oracle end to end (CLI, node-oracledb thin, emulator)', () => {
  let emulator: OracleEmulator;
  let project: TempProject;
  const descriptions = [...HOSTILE_DESCRIPTIONS, ...generatedStrings(20)].filter((text) => !text.includes('\0') && text.trim() !== '');

  const config = (connection: object) => ({ version: 1, services: { ora: { type: 'oracle', connection } } });

  before(async () => {
    emulator = await startOracleEmulator({ users: { APP: 'secret', OTHER: 'other' } });
    emulator.run('CREATE TABLE APP.ORDERS (ID NUMBER, EMAIL VARCHAR2(100), "Mixed Case" VARCHAR2(10))');
    emulator.run(`CREATE TABLE APP."Order's Items" (SKU VARCHAR2(10))`);
    emulator.run('CREATE VIEW APP.ORDER_VIEW (ID) AS SELECT id FROM orders');
    emulator.run('CREATE MATERIALIZED VIEW APP.DAILY (DAY, TOTAL) AS SELECT 1, 2 FROM dual');
    emulator.run('CREATE TABLE OTHER.HIDDEN (ID NUMBER)');
    project = await tempProject(config(emulator.connection));
  });
  after(async () => {
    await project?.remove();
    await emulator?.close();
  });

  it('plans, applies and plans again with no changes; every hostile description reads back byte-identical', async () => {
    const columns: Record<string, string> = { id: descriptions[0] as string, email: descriptions[1] as string, '"Mixed Case"': descriptions[2] as string };
    await project.write('metadata/app.yaml', stringify({
      service: 'ora',
      database: 'default',
      schemas: {
        app: {
          tables: {
            orders: { description: descriptions[3], columns },
            "Order's Items": { description: descriptions[4], columns: { sku: descriptions[5] } },
            order_view: { description: descriptions[6], columns: { id: descriptions[7] } },
            daily: { description: descriptions[8], columns: { day: descriptions[9], total: descriptions[10] } },
          },
        },
      },
    }));
    const plan = await metaform(project.dir, ['plan']);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /COMMENT ON MATERIALIZED VIEW "APP"\."DAILY" IS/);
    assert.match(plan.stdout, /COMMENT ON TABLE "APP"\."Order's Items" IS/);
    const apply = await metaform(project.dir, ['apply', '--auto-approve']);
    assert.equal(apply.code, 0, apply.stdout + apply.stderr);
    const again = await metaform(project.dir, ['plan', '--detailed-exitcode']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /No changes/);
    const objects = emulator.engine.objects;
    assert.equal(objects.get('"APP"."ORDERS"')?.comment, descriptions[3]);
    assert.equal(objects.get('"APP"."ORDERS"')?.columns.find((c) => c.name === 'Mixed Case')?.comment, descriptions[2]);
    assert.equal(objects.get(`"APP"."Order's Items"`)?.comment, descriptions[4]);
    assert.equal(objects.get('"APP"."DAILY"')?.mviewComment, descriptions[8]);
    assert.equal(objects.get('"APP"."DAILY"')?.comment, null, 'the container table keeps its own comment');
  });

  it('reads generated descriptions back byte-identical, the whole set in one apply', async () => {
    const generated = generatedStrings(60, 7).filter((text) => text.trim() !== '');
    const columnsOf = Object.fromEntries(['ID', 'EMAIL'].map((name, index) => [name.toLowerCase(), generated[index] as string]));
    await project.write('metadata/app.yaml', stringify({ service: 'ora', database: 'default', schemas: { app: { tables: { orders: { description: generated[2], columns: columnsOf } } } } }));
    assert.equal((await metaform(project.dir, ['apply', '--auto-approve'])).code, 0);
    assert.equal(emulator.engine.objects.get('"APP"."ORDERS"')?.comment, generated[2]);
    assert.equal(emulator.engine.objects.get('"APP"."ORDERS"')?.columns.find((c) => c.name === 'EMAIL')?.comment, generated[1]);
    assert.match((await metaform(project.dir, ['plan'])).stdout, /No changes/);
  });

  it('refuses a saved plan when the comment changed since', async () => {
    await project.write('metadata/app.yaml', stringify({ service: 'ora', database: 'default', schemas: { app: { tables: { orders: { description: 'planned' } } } } }));
    assert.equal((await metaform(project.dir, ['plan', '--out', 'plan.json'])).code, 0);
    emulator.run(`COMMENT ON TABLE APP.ORDERS IS 'changed by hand'`);
    const apply = await metaform(project.dir, ['apply', 'plan.json']);
    assert.equal(apply.code, 1, apply.stdout);
    assert.match(apply.stdout + apply.stderr, /changed by hand|stale|changed since/i);
    assert.equal(emulator.engine.objects.get('"APP"."ORDERS"')?.comment, 'changed by hand');
  });

  it("reports another schema's table it cannot see as missing, and what it cannot change as failed", async () => {
    await project.write('metadata/app.yaml', stringify({ service: 'ora', database: 'default', schemas: { other: { tables: { hidden: 'x' } } } }));
    const plan = await metaform(project.dir, ['plan']);
    assert.equal(plan.code, 1);
    assert.match(plan.stdout + plan.stderr, /other\.hidden|OTHER\.HIDDEN/i);
    emulator.run('GRANT SELECT ON OTHER.HIDDEN TO APP');
    const apply = await metaform(project.dir, ['apply', '--auto-approve']);
    assert.notEqual(apply.code, 0);
    assert.match(apply.stdout + apply.stderr, /ORA-01031/);
  });

  it('refuses a description over 4,000 bytes at validation, with its place', async () => {
    await project.write('metadata/app.yaml', stringify({ service: 'ora', database: 'default', schemas: { app: { tables: { orders: 'é'.repeat(2001) } } } }));
    const validate = await metaform(project.dir, ['validate']);
    assert.equal(validate.code, 1);
    assert.match(validate.stdout + validate.stderr, /metadata\/app\.yaml:\d+:\d+: .*4002 bytes/);
  });

  it('refuses owners and tags at validation, saying why', async () => {
    await project.write('metadata/app.yaml', stringify({ service: 'ora', database: 'default', schemas: { app: { tables: { orders: { owners: ['OTHER'], tags: { pii: 'yes' } } } } } }));
    const validate = await metaform(project.dir, ['validate']);
    assert.equal(validate.code, 1);
    assert.match(validate.stdout + validate.stderr, /owner/);
  });

  it('imports what the schemas hold, and the import plans to no changes', async () => {
    emulator.run(`COMMENT ON TABLE APP.ORDERS IS 'imported'`);
    await rm(join(project.dir, 'metadata/app.yaml'));
    const imported = await metaform(project.dir, ['import', '-s', 'ora', '--force']);
    assert.equal(imported.code, 0, imported.stderr);
    const plan = await metaform(project.dir, ['plan', '--detailed-exitcode']);
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  it('survives a dropped connection: the statement runs again on a new one', async () => {
    const session = await OracleSession.open({ name: 'ora', type: 'oracle', connection: emulator.connection, tags: { prune: true }, owners: { map: {} }, templates: {}, options: {} });
    try {
      await session.read({ databases: ['default'], schemas: new Map([['default', ['APP']]]) });
      emulator.dropConnections();
      const [result] = await session.execute({
        database: 'default',
        operations: [{ id: 'op', service: 'ora', database: 'default', changeIds: ['op'], statements: [`COMMENT ON TABLE "APP"."ORDERS" IS 'after a drop'`] }],
      });
      assert.equal(result?.outcome, 'succeeded', result?.error);
      assert.ok((result?.attempts ?? 0) >= 2, 'the first attempt met the dropped connection');
      assert.equal(emulator.engine.objects.get('"APP"."ORDERS"')?.comment, 'after a drop');
    } finally {
      await session.close();
    }
  });

  it('names the service and user, never the password, when the server is gone', async () => {
    const gone = await tempProject(config({ ...emulator.connection, connectString: '127.0.0.1:1/FREEPDB1' }), { 'metadata/app.yaml': { service: 'ora', database: 'default', schemas: { app: { tables: { orders: 'x' } } } } });
    try {
      const plan = await metaform(gone.dir, ['plan']);
      assert.equal(plan.code, 1);
      assert.match(plan.stderr, /Oracle at 127\.0\.0\.1:1\/FREEPDB1 as APP/);
      assert.doesNotMatch(plan.stderr, /secret/);
    } finally {
      await gone.remove();
    }
  });
});
