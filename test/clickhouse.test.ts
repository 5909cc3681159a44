import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { importService } from '../src/core/import.js';
import { loadProject } from '../src/core/project.js';
import type { Change } from '../src/core/model.js';
import { clickhouseDialect, renderClickhouse, versionAtLeast } from '../src/connectors/clickhouse/dialect.js';
import { chdbUnavailable, startChdbServer, type ChdbServer } from './support/chdb-server.js';
import { tempProject } from './support/project.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS, HOSTILE_IDENTIFIERS } from './support/strings.js';

const change = (path: string[], level: Change['level'], after: string | null): Change => ({
  id: `${path.join('.')}#description`,
  service: 'events',
  address: `events.${path.join('.')}`,
  path,
  level,
  property: 'description',
  action: after === null ? 'remove' : 'add',
  before: after === null ? 'x' : null,
  after,
});

describe('ClickHouse dialect', () => {
  it('escapes backslashes and quotes with backslashes, in identifiers and literals', () => {
    assert.equal(clickhouseDialect.quoteIdentifier('a`b\\c'), '`a\\`b\\\\c`');
    assert.equal(clickhouseDialect.quoteLiteral(`it's \\ \0`), `'it\\'s \\\\ \\0'`);
  });

  it('batches the column comments of a table into one ALTER, ON CLUSTER when configured, and removes with an empty comment', () => {
    const rendered = renderClickhouse(
      [change(['default', 'db', 't', 'a'], 'column', 'A'), change(['default', 'db', 't', 'b.c'], 'column', null), change(['default', 'db', 't'], 'table', 'T')],
      { version: '24.3.1' },
      'main',
    );
    assert.deepEqual(rendered.skipped, []);
    assert.deepEqual(
      rendered.operations.map((operation) => [operation.changeIds.length, operation.statements]),
      [
        [1, ["ALTER TABLE `db`.`t` ON CLUSTER `main` MODIFY COMMENT 'T'"]],
        [2, ["ALTER TABLE `db`.`t` ON CLUSTER `main` COMMENT COLUMN `a` 'A', COMMENT COLUMN `b.c` ''"]],
      ],
    );
  });

  it('splits the column comments of a table over several ALTERs of one operation to stay under max_query_size', () => {
    const changes = ['a', 'b', 'c', 'd'].map((name) => change(['default', 'db', 't', name], 'column', name.repeat(40)));
    const rendered = renderClickhouse(changes, { version: '24.3.1', maxQuerySize: 150 }, undefined);
    assert.deepEqual(rendered.skipped, []);
    assert.equal(rendered.operations.length, 1);
    const statements = rendered.operations[0]?.statements ?? [];
    assert.equal(statements.length, 2);
    for (const statement of statements) assert.ok(Buffer.byteLength(statement) <= 150, statement);
    assert.deepEqual(rendered.operations[0]?.changeIds, changes.map((c) => c.id));
    const tooLong = renderClickhouse([change(['default', 'db', 't'], 'table', 'é'.repeat(100))], { version: '24.3.1', maxQuerySize: 150 }, undefined);
    assert.match(tooLong.skipped[0]?.reason ?? '', /^the comment is 200 bytes and its statement 238 bytes, above the server's max_query_size \(150 bytes\)/);
  });

  it('comments a database only on 25.4 and later, and says why otherwise', () => {
    const schema = change(['default', 'db'], 'schema', 'D');
    assert.deepEqual(renderClickhouse([schema], { version: '25.4.1.1' }, undefined).operations[0]?.statements, ["ALTER DATABASE `db` MODIFY COMMENT 'D'"]);
    const old = renderClickhouse([schema], { version: '25.3.2.1' }, undefined);
    assert.equal(old.operations.length, 0);
    assert.match(old.skipped[0]?.reason ?? '', /ClickHouse 25\.3\.2\.1 cannot change a database comment \(ALTER DATABASE \.\.\. MODIFY COMMENT needs 25\.4 or later\)/);
    assert.ok(versionAtLeast('26.7.2.1', [25, 4]) && !versionAtLeast('24.12', [25, 4]) && versionAtLeast('25.4', [25, 4]));
  });
});

describe('ClickHouse end to end: @clickhouse/client against chDB over HTTP', () => {
  const unavailable = chdbUnavailable();
  let server: ChdbServer | undefined;
  const { schema, table, column } = HOSTILE_IDENTIFIERS;
  const id = clickhouseDialect.quoteIdentifier;
  const randomDescriptions = generatedStrings(30, 99);

  before(async () => {
    if (unavailable) return;
    server = await startChdbServer();
    server.query(`CREATE DATABASE shop`);
    server.query(`CREATE TABLE shop.orders (id UInt64, email String COMMENT 'old', amount Decimal(12, 2)) ENGINE = MergeTree ORDER BY id COMMENT 'orders'`);
    server.query(`CREATE TABLE shop.wide (${randomDescriptions.map((_, i) => `c${i} UInt8`).join(', ')}) ENGINE = Memory`);
    server.query(`CREATE DATABASE ${id(schema)}`);
    server.query(`CREATE TABLE ${id(schema)}.${id(table)} (${id(column)} Float64, MixedCase String) ENGINE = MergeTree ORDER BY tuple()`);
  });
  after(() => server?.close());

  const project = (metadata: object, extra: object = {}) =>
    tempProject({ version: 1, services: { events: { type: 'clickhouse', connection: { url: server?.url ?? '' }, ...extra } } }, { 'metadata/events.yaml': metadata });

  const desired = {
    service: 'events',
    database: 'default',
    schemas: {
      shop: {
        description: 'Shop events',
        tables: {
          orders: { description: 'One row per order', columns: { id: 'Order id', email: null, amount: HOSTILE_DESCRIPTIONS[1] } },
          wide: { columns: Object.fromEntries(randomDescriptions.map((text, i) => [`c${i}`, text])) },
        },
      },
      [schema]: {
        description: HOSTILE_DESCRIPTIONS[0],
        tables: { [table]: { description: HOSTILE_DESCRIPTIONS.join('|'), columns: { [column]: HOSTILE_DESCRIPTIONS[6], MixedCase: HOSTILE_DESCRIPTIONS[4] } } },
      },
    },
  };

  it('plans, applies through the real client, reads back byte-identical, and converges', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    const dir = await project(desired);
    try {
      const loaded = await loadProject(dir.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 4, 'version, databases, tables, columns');
      assert.equal(plan.summary.skipped, 0);
      const ops = plan.operations.filter((operation) => operation.statements[0]?.includes('`wide`'));
      assert.equal(ops.length, 1, 'the 30 column comments of one table are one ALTER');
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((op) => op.error).filter(Boolean)));
      const rows = (sql: string) => server!.query(sql).trim().split('\n').map((line) => JSON.parse(line) as string[]);
      assert.deepEqual(rows(`SELECT comment FROM system.databases WHERE name IN ('shop', ${clickhouseDialect.quoteLiteral(schema)}) ORDER BY name = 'shop'`), [[HOSTILE_DESCRIPTIONS[0]], ['Shop events']]);
      assert.deepEqual(rows(`SELECT comment FROM system.tables WHERE database = ${clickhouseDialect.quoteLiteral(schema)}`), [[HOSTILE_DESCRIPTIONS.join('|')]]);
      assert.deepEqual(rows(`SELECT name, comment FROM system.columns WHERE database = ${clickhouseDialect.quoteLiteral(schema)} ORDER BY position`), [
        [column, HOSTILE_DESCRIPTIONS[6]],
        ['MixedCase', HOSTILE_DESCRIPTIONS[4]],
      ]);
      assert.deepEqual(rows(`SELECT comment FROM system.columns WHERE database = 'shop' AND table = 'wide' ORDER BY position`), randomDescriptions.map((text) => [text]));
      assert.deepEqual(rows(`SELECT name, comment FROM system.columns WHERE database = 'shop' AND table = 'orders' ORDER BY position`), [
        ['id', 'Order id'],
        ['email', ''],
        ['amount', HOSTILE_DESCRIPTIONS[1]],
      ]);
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('writes ON CLUSTER statements the engine parses (chDB then refuses distributed DDL, code 392, not a syntax error)', (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    const rendered = renderClickhouse(
      [change(['default', 'shop'], 'schema', 'D'), change(['default', 'shop', 'orders'], 'table', "it's"), change(['default', 'shop', 'orders', 'id'], 'column', 'I')],
      { version: server.query('SELECT version()', 'TSV').trim() },
      'main',
    );
    const statements = rendered.operations.flatMap((operation) => operation.statements);
    assert.equal(statements.length, 3);
    for (const statement of statements) assert.throws(() => server!.query(statement), /Code: 392\. DB::Exception: Replicated DDL queries are disabled/, statement);
    assert.throws(() => server!.query("ALTER TABLE shop.orders MODIFY COMMENT ON CLUSTER main 'x'"), /Code: 62\./, 'a misplaced ON CLUSTER is a syntax error');
  });

  it('skips column comments of a materialized view, which ClickHouse accepts and ignores, and converges', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    server.query(`CREATE MATERIALIZED VIEW shop.order_ids ENGINE = MergeTree ORDER BY id AS SELECT id FROM shop.orders`);
    const dir = await project({ service: 'events', database: 'default', schemas: { shop: { tables: { order_ids: { description: 'Ids of orders', columns: { id: 'Order id' } } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.match(plan.changes.find((change) => change.level === 'column')?.skipped ?? '', /no column comments on a materialized view/);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      assert.deepEqual(
        (await createPlan(loaded)).plan.changes.map((change) => [change.level, change.skipped !== undefined]),
        [['column', true]],
        'the view comment applied; only the column stays pending, with its reason',
      );
    } finally {
      await dir.remove();
    }
  });

  it('reports a failed ALTER with ClickHouse’s error while the other operations apply', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    // The database comment goes through a template that names a setting ClickHouse does not know:
    // the plan checks out, and the server refuses that one ALTER at run time.
    const dir = await project(
      { service: 'events', database: 'default', schemas: { shop: { description: 'never applied', tables: { orders: 'Orders, again' } } } },
      { templates: { 'schema.description': 'ALTER DATABASE {schema} MODIFY COMMENT {value} SETTINGS no_such_setting_anywhere = 1' } },
    );
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      const report = await applyPlan(loaded, plan);
      assert.equal(report.succeeded, 1);
      const failed = report.run.operations.find((operation) => operation.outcome === 'failed');
      assert.match(failed?.error ?? '', /^Code: \d+\. DB::Exception: .*no_such_setting_anywhere.* \(HTTP \d+\)$/);
    } finally {
      await dir.remove();
    }
  });

  it('imports YAML that plans to no changes', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    const dir = await project({ service: 'events', database: 'default' });
    try {
      const files = await importService(await loadProject(dir.dir), 'events');
      assert.equal(files.length, 1);
      assert.match(files[0]?.content ?? '', /One row per order|Orders, again/);
      await dir.write('metadata/events.yaml', files[0]?.content ?? '');
      const { plan } = await createPlan(await loadProject(dir.dir));
      assert.deepEqual(plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('rejects owners and tags before connecting', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    const dir = await project({ service: 'events', database: 'default', schemas: { shop: { tables: { orders: { owners: ['x'] } } } } });
    try {
      await assert.rejects(loadProject(dir.dir), /ClickHouse \(clickhouse\) does not support owner on a table \(events\.default\.shop\.orders\)/);
    } finally {
      await dir.remove();
    }
  });
});
