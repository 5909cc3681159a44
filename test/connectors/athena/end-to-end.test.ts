/**
 * metaform's Athena connector end to end: the unmodified @aws-sdk/client-athena against the
 * emulator in test/emulators/athena/, as the ordinary role SERVICE_ROLE.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyPlan, createPlan } from '../../../src/core/pipeline.js';
import { importService } from '../../../src/core/import.js';
import { loadProject } from '../../../src/core/project.js';
import { athenaConnector } from '../../../src/connectors/athena/index.js';
import { tempProject } from '../../support/project.js';
import { HOSTILE_DESCRIPTIONS, generatedStrings } from '../../support/strings.js';
import { READ_ONLY_ROLE, startAthenaTarget, type AthenaTarget } from './target.js';

describe('Athena end to end: @aws-sdk/client-athena against the awsJson1_1 emulator', () => {
  let target: AthenaTarget;
  before(async () => {
    target = await startAthenaTarget(120);
  });
  after(() => target.close());

  const project = (metadata: object, connection: Record<string, unknown> = {}, extra: object = {}) =>
    tempProject(
      { version: 1, services: { lake: { type: 'athena', connection: { ...target.connection, ...connection }, options: target.options, ...extra } } },
      { 'metadata/lake.yaml': { service: 'lake', ...metadata } },
    );
  const service = (connection: Record<string, unknown> = {}, options: Record<string, number> = {}) => ({
    name: 'lake',
    type: 'athena',
    connection: { ...target.connection, ...connection } as Record<string, string>,
    tags: { prune: true },
    owners: { map: {} },
    templates: {},
    options: { ...target.options, ...options },
  });

  it('plans, applies and reads back hostile descriptions byte-identical, then plans no changes', async () => {
    const random = generatedStrings(60, 17);
    const wide = Object.fromEntries(random.map((text, i) => [`t${i}`, { description: text }]));
    const dir = await project({
      database: 'AwsDataCatalog',
      schemas: {
        Sales: { tables: { orders: { description: HOSTILE_DESCRIPTIONS.join('|') }, customers: { description: HOSTILE_DESCRIPTIONS[8] }, select: { description: "reserved 'select'" }, _staging: { description: HOSTILE_DESCRIPTIONS[3] } } },
        wide: { tables: wide },
      },
    });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan, queries } = await createPlan(loaded);
      // ListDatabases (1 page), ListTableMetadata: sales (1 page of 6), wide (120 tables: 3 pages).
      assert.equal(queries, 5);
      assert.equal(plan.summary.skipped, 0);
      const starts = target.emulator.calls.filter((call) => call === 'StartQueryExecution').length;
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error).filter(Boolean)));
      assert.equal(target.emulator.calls.filter((call) => call === 'StartQueryExecution').length - starts, 64);
      assert.equal(target.tableDescription('sales', 'orders'), HOSTILE_DESCRIPTIONS.join('|'));
      assert.equal(target.tableDescription('sales', 'customers'), HOSTILE_DESCRIPTIONS[8]);
      assert.equal(target.tableDescription('sales', 'select'), "reserved 'select'");
      assert.equal(target.tableDescription('sales', '_staging'), HOSTILE_DESCRIPTIONS[3]);
      random.forEach((text, i) => assert.equal(target.tableDescription('wide', `t${i}`), text));
      const last = target.emulator.queries.at(-1);
      assert.equal(last?.workgroup, 'primary');
      assert.equal(last?.outputLocation, target.connection['outputLocation']);
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('keeps every other table property and column when it sets the description', async () => {
    const before = target.emulator.catalogs.table('awsdatacatalog', 'sales', 'customers');
    const columns = JSON.stringify(before.Columns);
    const dir = await project({ database: 'awsdatacatalog', schemas: { sales: { tables: { customers: { description: 'Customers' } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      assert.equal((await applyPlan(loaded, (await createPlan(loaded)).plan)).failed, 0);
      assert.deepEqual(before.Parameters, { EXTERNAL: 'TRUE', classification: 'parquet', comment: 'Customers' });
      assert.equal(JSON.stringify(before.Columns), columns);
    } finally {
      await dir.remove();
    }
  });

  it('skips a view and an Iceberg table with the reason', async () => {
    const dir = await project({ database: 'awsdatacatalog', schemas: { sales: { tables: { v_orders: { description: 'v' }, events: { description: 'e' } } } } });
    try {
      const { plan } = await createPlan(await loadProject(dir.dir));
      assert.deepEqual(
        plan.changes.map((change) => change.skipped?.slice(0, 40)),
        ['an Athena view has no table comment meta', 'an Iceberg table keeps its properties in'],
      );
      assert.equal(plan.operations.length, 0);
    } finally {
      await dir.remove();
    }
  });

  it('refuses owners, tags, column and schema descriptions at validation, saying why, before connecting', async () => {
    const dir = await project(
      { database: 'awsdatacatalog', schemas: { sales: { description: 'S', tables: { orders: { owners: ['jane'], tags: { pii: '' }, columns: { email: 'E' } } } } } },
      { endpoint: 'http://203.0.113.1:9' },
    );
    try {
      await assert.rejects(loadProject(dir.dir), (error: Error) => {
        assert.match(error.message, /Amazon Athena \(athena\) does not support description on a schema \(lake\.awsdatacatalog\.sales\)/);
        assert.match(error.message, /does not support owner on a table/);
        assert.match(error.message, /Athena and Glue have no object owner/);
        assert.match(error.message, /does not support tags on a table/);
        assert.match(error.message, /LF-Tags are another service \(future work\)/);
        assert.match(error.message, /does not support description on a column/);
        assert.match(error.message, /CHANGE COLUMN, which restates the type/);
        return true;
      });
    } finally {
      await dir.remove();
    }
  });

  it('refuses a stale saved plan, reading the touched tables again with GetTableMetadata', async () => {
    const dir = await project({ database: 'awsdatacatalog', schemas: { sales: { tables: { orders: { description: 'fresh' } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      target.setTableDescription('sales', 'orders', 'changed meanwhile');
      const calls = target.emulator.calls.length;
      await assert.rejects(applyPlan(loaded, plan), /the plan is stale: 1 object changed since it was made:\n.*plan expected .*, found "changed meanwhile"/);
      assert.deepEqual(target.emulator.calls.slice(calls), ['GetTableMetadata']);
      assert.equal(target.tableDescription('sales', 'orders'), 'changed meanwhile');
      const fresh = await createPlan(loaded);
      assert.equal((await applyPlan(loaded, fresh.plan)).failed, 0);
      assert.equal(target.tableDescription('sales', 'orders'), 'fresh');
    } finally {
      await dir.remove();
    }
  });

  it("shows a wrongly escaped template for what it is: 'it''s' reads back as its, and an unterminated literal fails to parse", async () => {
    const dir = await project(
      { database: 'awsdatacatalog', schemas: { sales: { tables: { customers: { description: "it's" } } } } },
      {},
      { templates: { 'table.description': "ALTER TABLE {object} SET TBLPROPERTIES ('comment' = 'it''s')" } },
    );
    try {
      const loaded = await loadProject(dir.dir);
      assert.equal((await applyPlan(loaded, (await createPlan(loaded)).plan)).failed, 0);
      assert.equal(target.tableDescription('sales', 'customers'), 'its', 'Hive joins adjacent literals: the quote is lost');
      assert.equal((await createPlan(loaded)).plan.changes.length, 1, 'so the next plan still has the change');
    } finally {
      await dir.remove();
    }
    const broken = await project(
      { database: 'awsdatacatalog', schemas: { sales: { tables: { customers: { description: 'x' } } } } },
      {},
      { templates: { 'table.description': "ALTER TABLE {object} SET TBLPROPERTIES ('comment' = 'back\\')" } },
    );
    try {
      const loaded = await loadProject(broken.dir);
      const report = await applyPlan(loaded, (await createPlan(loaded)).plan);
      assert.equal(report.failed, 1);
      assert.match(report.run.operations[0]?.error ?? '', /InvalidRequestException: line 1:\d+: token recognition error at: .*unterminated string literal/);
    } finally {
      await broken.remove();
    }
  });

  it('refuses a plan whose table was dropped meanwhile', async () => {
    target.emulator.run('CREATE EXTERNAL TABLE sales.doomed (c int)');
    const dir = await project({ database: 'awsdatacatalog', schemas: { sales: { tables: { doomed: { description: 'x' } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      target.emulator.run('DROP TABLE sales.doomed');
      await assert.rejects(applyPlan(loaded, plan), /table lake\.awsdatacatalog\.sales\.doomed no longer exists/);
    } finally {
      await dir.remove();
    }
  });

  it('imports YAML that plans to no changes', async () => {
    const dir = await project({ database: 'awsdatacatalog' }, { database: 'awsdatacatalog' });
    try {
      const files = await importService(await loadProject(dir.dir), 'lake');
      assert.equal(files.length, 1);
      assert.match(files[0]?.content ?? '', /description:/);
      await writeFile(join(dir.dir, 'metadata/lake.yaml'), files[0]?.content ?? '');
      assert.deepEqual((await createPlan(await loadProject(dir.dir))).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('starts nothing once apply is interrupted: every operation is reported not-run', async () => {
    const session = await athenaConnector.connect(service());
    try {
      const controller = new AbortController();
      controller.abort();
      const operation = (id: string) => ({ id, service: 'lake', database: 'awsdatacatalog', changeIds: [id], statements: [`ALTER TABLE sales.orders SET TBLPROPERTIES ('comment' = '${id}')`] });
      const calls = target.emulator.calls.length;
      const results = await session.execute({ database: 'awsdatacatalog', operations: [operation('a'), operation('b')], signal: controller.signal });
      assert.deepEqual(results.map((result) => [result.operationId, result.outcome, result.error]), [
        ['a', 'not-run', 'interrupted'],
        ['b', 'not-run', 'interrupted'],
      ]);
      assert.equal(target.emulator.calls.length, calls, 'nothing reached Athena');
    } finally {
      await session.close();
    }
  });

  it('runs a statement again after a reset connection or throttling, and stops when nothing answers', async () => {
    const session = await athenaConnector.connect(service());
    const operation = (id: string) => ({ id, service: 'lake', database: 'awsdatacatalog', changeIds: [id], statements: [`ALTER TABLE sales.customers SET TBLPROPERTIES ('comment' = '${id}')`] });
    try {
      target.emulator.failNext('StartQueryExecution', 1, 'reset');
      target.emulator.failNext('GetQueryExecution', 1, 'throttle');
      const [result] = await session.execute({ database: 'awsdatacatalog', operations: [operation('after-reset')] });
      assert.equal(result?.outcome, 'succeeded');
      assert.equal(result?.attempts, 3);
      assert.equal(target.tableDescription('sales', 'customers'), 'after-reset');
    } finally {
      await session.close();
    }
    const gone = await athenaConnector.connect(service({ endpoint: 'http://127.0.0.1:9' }, { concurrency: 1 }));
    try {
      const results = await gone.execute({ database: 'awsdatacatalog', operations: [operation('x'), operation('y')] });
      assert.equal(results[0]?.outcome, 'failed');
      assert.match(results[0]?.error ?? '', /ECONNREFUSED/);
      assert.equal(results[1]?.outcome, 'not-run');
      assert.match(results[1]?.error ?? '', /not run: Athena service lake \(region us-east-1, workgroup primary, catalog awsdatacatalog\) is unreachable/);
    } finally {
      await gone.close();
    }
  });

  it('reports a denied glue:UpdateTable as that operation’s failure with the reason, and never prints a key', async () => {
    const dir = await project(
      { database: 'awsdatacatalog', schemas: { sales: { tables: { orders: { description: 'denied' } } } } },
      { accessKeyId: READ_ONLY_ROLE.accessKeyId, secretAccessKey: READ_ONLY_ROLE.secretAccessKey },
    );
    try {
      const loaded = await loadProject(dir.dir);
      const report = await applyPlan(loaded, (await createPlan(loaded)).plan);
      assert.equal(report.failed, 1);
      assert.match(report.run.operations[0]?.error ?? '', /FAILED: AccessDeniedException: User: arn:aws:iam::123456789012:user\/metaform-readonly is not authorized to perform: glue:UpdateTable/);
    } finally {
      await dir.remove();
    }
    const wrong = await project({ database: 'awsdatacatalog', schemas: { sales: { tables: { orders: { description: 'x' } } } } }, { secretAccessKey: 'wrong-secret-value' });
    try {
      await assert.rejects(createPlan(await loadProject(wrong.dir)), (error: Error) => {
        assert.match(error.message, /Athena service lake \(region us-east-1, workgroup primary, catalog awsdatacatalog\): InvalidSignatureException: The request signature we calculated does not match/);
        assert.ok(!error.message.includes('wrong-secret-value') && !error.message.includes(String(target.connection['accessKeyId'])));
        return true;
      });
    } finally {
      await wrong.remove();
    }
  });

  it('fails before any request without a region, and names a catalog that does not exist', async () => {
    await assert.rejects(athenaConnector.connect(service({ region: '' })), /Athena service lake \(region .*\): no region/);
    const dir = await project({ database: 'nocatalog', schemas: { sales: { tables: { orders: { description: 'x' } } } } });
    try {
      await assert.rejects(createPlan(await loadProject(dir.dir)), /Athena service lake \(region us-east-1, workgroup primary, catalog nocatalog\): MetadataException: Catalog nocatalog not found/);
    } finally {
      await dir.remove();
    }
  });
});
