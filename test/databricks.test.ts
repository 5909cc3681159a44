import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { importService } from '../src/core/import.js';
import { loadProject } from '../src/core/project.js';
import type { Change } from '../src/core/model.js';
import { quoteDatabricksIdentifier, quoteDatabricksLiteral, renderDatabricks } from '../src/connectors/databricks/dialect.js';
import { catalogQueries } from '../src/connectors/databricks/catalog.js';
import { isTransientDatabricksError } from '../src/connectors/databricks/client.js';
import { databricksConnector } from '../src/connectors/databricks/index.js';
import { EmulatedAccount, type EmulatedCatalog } from './emulators/databricks/catalog.js';
import { startDatabricksEmulator, type DatabricksEmulator } from './emulators/databricks/server.js';
import { tempProject } from './support/project.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS, HOSTILE_IDENTIFIERS } from './support/strings.js';

const service = { name: 'lake', type: 'databricks', connection: {}, tags: { prune: true }, owners: { map: {} }, templates: {}, options: {} };

const change = (path: string[], property: Change['property'], after: string | null, key?: string): Change => ({
  id: `${path.join('.')}#${property}${key === undefined ? '' : `:${key}`}`,
  service: 'lake',
  address: `lake.${path.join('.')}`,
  path,
  level: (['database', 'schema', 'table', 'column'] as const)[path.length - 1] ?? 'column',
  property,
  ...(key === undefined ? {} : { key }),
  action: after === null ? 'remove' : 'add',
  before: after === null ? 'x' : null,
  after,
});

const emptySnapshot = { service: 'lake', databases: new Map(), server: {}, queries: 0 };

describe('Databricks dialect', () => {
  it('quotes identifiers with doubled backquotes and literals with backslash escapes, never doubled quotes', () => {
    assert.equal(quoteDatabricksIdentifier('a`b.c'), '`a``b.c`');
    assert.equal(quoteDatabricksLiteral("it's \\ 'x'"), "'it\\'s \\\\ \\'x\\''");
    assert.equal(quoteDatabricksLiteral(null), 'NULL');
    assert.ok(!quoteDatabricksLiteral("a'b").includes("''"));
  });

  it('renders descriptions, owners and grouped tags at every level with three-part names', () => {
    const rendered = renderDatabricks(
      [
        change(['main'], 'description', 'Main'),
        change(['main', 's'], 'owner', 'jane@corp.com'),
        change(['main', 's', 't'], 'description', null),
        change(['main', 's', 't', 'c'], 'description', null),
        change(['main', 's', 't'], 'tag', 'v', 'k'),
        change(['main', 's', 't'], 'tag', null, 'old'),
        change(['main', 's', 't', 'c'], 'tag', '', 'pii'),
      ],
      emptySnapshot,
      service,
      { catalog: 'main', unity: true },
    );
    assert.deepEqual(rendered.skipped, []);
    assert.deepEqual(
      rendered.operations.map((operation) => operation.statements),
      [
        ["COMMENT ON CATALOG `main` IS 'Main'"],
        ['ALTER SCHEMA `main`.`s` SET OWNER TO `jane@corp.com`'],
        ['COMMENT ON TABLE `main`.`s`.`t` IS NULL'],
        ["ALTER TABLE `main`.`s`.`t` ALTER COLUMN `c` COMMENT ''"],
        ["ALTER TABLE `main`.`s`.`t` UNSET TAGS ('old')", "ALTER TABLE `main`.`s`.`t` SET TAGS ('k' = 'v')"],
        ["ALTER TABLE `main`.`s`.`t` ALTER COLUMN `c` SET TAGS ('pii' = '')"],
      ],
    );
  });

  it('uses the ALTER keyword of views, materialized views and streaming tables, and COMMENT ON COLUMN / SET TAG ON COLUMN for a view column', () => {
    const snapshot = {
      ...emptySnapshot,
      databases: new Map([
        [
          'main',
          {
            level: 'database' as const,
            name: 'main',
            children: new Map([
              [
                's',
                {
                  level: 'schema' as const,
                  name: 's',
                  children: new Map(
                    (['VIEW', 'MATERIALIZED_VIEW', 'STREAMING_TABLE'] as const).map((type) => [type, { level: 'table' as const, name: type, facts: { tableType: type }, children: new Map() }]),
                  ),
                },
              ],
            ]),
          },
        ],
      ]),
    };
    const rendered = renderDatabricks(
      [
        change(['main', 's', 'VIEW'], 'owner', 'a'),
        change(['main', 's', 'MATERIALIZED_VIEW'], 'tag', 'v', 'k'),
        change(['main', 's', 'STREAMING_TABLE', 'c'], 'description', 'd'),
        change(['main', 's', 'MATERIALIZED_VIEW', 'c'], 'description', 'd'),
        change(['main', 's', 'VIEW', 'c'], 'description', 'd'),
        { ...change(['main', 's', 'VIEW', 'c'], 'tag', 'new value', 'k'), before: 'old value', action: 'update' },
        { ...change(['main', 's', 'VIEW', 'c'], 'tag', '', 'key_only'), before: null },
      ],
      snapshot,
      service,
      { catalog: 'main', unity: true },
    );
    assert.deepEqual(
      rendered.operations.map((operation) => operation.statements),
      [
        ['ALTER VIEW `main`.`s`.`VIEW` SET OWNER TO `a`'],
        ["ALTER STREAMING TABLE `main`.`s`.`STREAMING_TABLE` ALTER COLUMN `c` COMMENT 'd'"],
        ["ALTER MATERIALIZED VIEW `main`.`s`.`MATERIALIZED_VIEW` ALTER COLUMN `c` COMMENT 'd'"],
        ["COMMENT ON COLUMN `main`.`s`.`VIEW`.`c` IS 'd'"],
        // ALTER VIEW has no ALTER COLUMN: SET TAG ON, which fails on a key already set, so an update unsets first.
        ['UNSET TAG ON COLUMN `main`.`s`.`VIEW`.`c` `k`', 'SET TAG ON COLUMN `main`.`s`.`VIEW`.`c` `k` = `new value`'],
        ['SET TAG ON COLUMN `main`.`s`.`VIEW`.`c` `key_only`'],
        ["ALTER MATERIALIZED VIEW `main`.`s`.`MATERIALIZED_VIEW` SET TAGS ('k' = 'v')"],
      ],
    );
  });

  it('in hive_metastore renders schema, table and column descriptions and skips the rest with the reason', () => {
    const rendered = renderDatabricks(
      [change(['hive_metastore', 's'], 'description', 'S'), change(['hive_metastore', 's', 't'], 'owner', 'a'), change(['hive_metastore', 's', 't'], 'tag', 'v', 'k'), change(['hive_metastore'], 'description', 'x')],
      emptySnapshot,
      service,
      { catalog: 'hive_metastore', unity: false },
    );
    assert.deepEqual(rendered.operations.map((operation) => operation.statements), [["COMMENT ON SCHEMA `hive_metastore`.`s` IS 'S'"]]);
    assert.equal(rendered.skipped.length, 3);
    for (const skip of rendered.skipped) assert.match(skip.reason, /hive_metastore is not in Unity Catalog: only schema, table and column descriptions/);
  });

  it('reads a catalog in eight information_schema queries, whatever its size', () => {
    const queries = catalogQueries("o'dd", ['a', 'b']);
    assert.equal(queries.length, 8);
    for (const sql of queries) assert.match(sql, /FROM system\.information_schema\.\w+ WHERE \w+ = 'o\\'dd'/);
  });

  it('reads only the catalog and its tags when no schema is named (no empty IN list)', () => {
    const queries = catalogQueries('main', []);
    assert.equal(queries.length, 2);
    for (const sql of queries) assert.doesNotMatch(sql, /IN \(\)/);
  });

  it('counts 429, 502, 503, 504 and a starting warehouse as transient, and not a syntax error', () => {
    assert.ok(isTransientDatabricksError({ statusCode: 503, message: 'Received a response with a bad HTTP status code: 503' }));
    assert.ok(isTransientDatabricksError(new Error('Received a response with a bad HTTP status code: 429')));
    assert.ok(isTransientDatabricksError(new Error('[TEMPORARILY_UNAVAILABLE] The warehouse is starting')));
    assert.ok(!isTransientDatabricksError(new Error('[PARSE_SYNTAX_ERROR] Syntax error at or near x')));
    assert.ok(!isTransientDatabricksError({ statusCode: 401 }));
  });
});

const PRINCIPALS = ['jane@corp.com', 'data platform', "o'brien@corp.com", 'odd`name', 'sp-7f3a'];
/** Tag keys Databricks accepts (no . , - = / :), hostile otherwise. */
const HOSTILE_TAG_KEYS = ["it's", 'back\\slash', 'new\nline', 'emoji 🚀', '`tick`', "'; DROP TABLE x; --".replace('-', '').replace('-', '')];
const shortHostile = HOSTILE_DESCRIPTIONS.filter((text) => text.length <= 1000);
/** Generated principals and tag keys (keys without the characters Databricks forbids in them). */
const GENERATED_PRINCIPALS = generatedStrings(5, 11);
const GENERATED_TAG_KEYS = [...new Set(generatedStrings(30, 13).map((key) => key.replace(/[.,\-=/:]/g, '')).filter((key) => key.length > 0))];

function seed(account: EmulatedAccount): EmulatedCatalog {
  account.addPrincipal(...PRINCIPALS, ...GENERATED_PRINCIPALS, 'admins');
  const main = account.addCatalog('main', { owner: 'admins' });
  const sales = account.addSchema(main, 'sales');
  account.addTable(sales, 'orders', ['id', 'Email', 'amount']);
  account.addTable(sales, 'v_orders', ['id'], { type: 'VIEW' });
  account.addTable(sales, 'mv_daily', ['day'], { type: 'MATERIALIZED_VIEW' });
  const odd = account.addSchema(main, HOSTILE_IDENTIFIERS.schema);
  account.addTable(odd, HOSTILE_IDENTIFIERS.table, [HOSTILE_IDENTIFIERS.column, 'MixedCase']);
  const wide = account.addTable(sales, 'wide', generatedStrings(20, 7).map((_, i) => `c${i}`));
  wide.tags.set('stale', 'x');
  const hive = account.addCatalog('hive_metastore', { unity: false });
  account.addTable(account.addSchema(hive, 'default'), 'legacy', ['a']);
  return main;
}

describe('Databricks end to end: @databricks/sql against the Thrift emulator', () => {
  let emulator: DatabricksEmulator;
  let main: EmulatedCatalog;
  let account: EmulatedAccount;
  before(async () => {
    account = new EmulatedAccount();
    main = seed(account);
    emulator = await startDatabricksEmulator({ account });
  });
  after(() => emulator.close());

  const connection = (overrides: Record<string, unknown> = {}) => ({
    host: emulator.host,
    port: emulator.port,
    path: emulator.path,
    token: emulator.token,
    caCert: emulator.certificate.toString(),
    ...overrides,
  });
  const project = (metadata: object, extra: object = {}, type = 'databricks', overrides: Record<string, unknown> = {}) =>
    tempProject({ version: 1, services: { lake: { type, connection: connection(overrides), ...extra } } }, { 'metadata/lake.yaml': metadata });

  const random = generatedStrings(20, 7);
  const desired = {
    service: 'lake',
    database: 'Main',
    description: HOSTILE_DESCRIPTIONS[0],
    owners: ['odd`name'],
    tags: Object.fromEntries(HOSTILE_TAG_KEYS.map((key, i) => [key, shortHostile[i] ?? ''])),
    schemas: {
      sales: {
        description: HOSTILE_DESCRIPTIONS[1],
        owners: ["o'brien@corp.com"],
        tags: { tier: '' },
        tables: {
          orders: {
            description: HOSTILE_DESCRIPTIONS.join('|'),
            owners: ['Platform Team'],
            tags: { [HOSTILE_TAG_KEYS[0] as string]: HOSTILE_DESCRIPTIONS[8] ?? '' },
            columns: { id: 'Order id', email: { description: HOSTILE_DESCRIPTIONS[3], tags: { pii: 'Sensitive', [HOSTILE_TAG_KEYS[3] as string]: '' } }, amount: HOSTILE_DESCRIPTIONS[2] },
          },
          v_orders: { description: 'A view', owners: ['sp-7f3a'], tags: { k: 'v' }, columns: { id: { description: HOSTILE_DESCRIPTIONS[9], tags: { pii: '', [HOSTILE_TAG_KEYS[0] as string]: "it's `x`" } } } },
          mv_daily: { owners: ['jane@corp.com'], tags: { refreshed: 'daily' } },
          wide: {
            owners: [GENERATED_PRINCIPALS[0]],
            tags: { kept: 'yes', ...Object.fromEntries(GENERATED_TAG_KEYS.map((key, i) => [key, random[i % random.length] ?? ''])) },
            columns: Object.fromEntries(random.map((text, i) => [`c${i}`, { description: text, tags: { g: text } }])),
          },
        },
      },
      [HOSTILE_IDENTIFIERS.schema]: {
        description: HOSTILE_DESCRIPTIONS[6],
        tables: { [HOSTILE_IDENTIFIERS.table]: { description: HOSTILE_DESCRIPTIONS[7], columns: { [HOSTILE_IDENTIFIERS.column]: HOSTILE_DESCRIPTIONS[5], mixedcase: HOSTILE_DESCRIPTIONS[10] } } },
      },
    },
  };

  it('plans, applies, reads back byte-identical at every level (tags and owners too, generated ones included), and converges', async () => {
    const dir = await project(desired, { owners: { map: { 'Platform Team': 'data platform' } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 8, 'eight information_schema queries for the catalog');
      assert.equal(plan.summary.skipped, 0, JSON.stringify(plan.changes.filter((c) => c.skipped)));
      assert.ok(plan.changes.some((c) => c.property === 'tag' && c.key === 'stale' && c.action === 'remove'), 'prune removes a tag the YAML does not list');
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error).filter(Boolean)));

      assert.equal(main.comment, HOSTILE_DESCRIPTIONS[0]);
      assert.equal(main.owner, 'odd`name');
      assert.deepEqual(Object.fromEntries(main.tags), desired.tags);
      const sales = main.schemas.get('sales');
      assert.equal(sales?.comment, HOSTILE_DESCRIPTIONS[1]);
      assert.equal(sales?.owner, "o'brien@corp.com");
      assert.deepEqual(Object.fromEntries(sales?.tags ?? []), { tier: '' });
      const orders = sales?.tables.get('orders');
      assert.equal(orders?.comment, HOSTILE_DESCRIPTIONS.join('|'));
      assert.equal(orders?.owner, 'data platform');
      assert.deepEqual(Object.fromEntries(orders?.tags ?? []), { [HOSTILE_TAG_KEYS[0] as string]: HOSTILE_DESCRIPTIONS[8] });
      assert.equal(orders?.columns.get('email')?.comment, HOSTILE_DESCRIPTIONS[3]);
      assert.deepEqual(Object.fromEntries(orders?.columns.get('email')?.tags ?? []), { pii: 'Sensitive', [HOSTILE_TAG_KEYS[3] as string]: '' });
      assert.equal(orders?.columns.get('amount')?.comment, HOSTILE_DESCRIPTIONS[2]);
      const view = sales?.tables.get('v_orders');
      assert.deepEqual([view?.comment, view?.owner, view?.columns.get('id')?.comment], ['A view', 'sp-7f3a', HOSTILE_DESCRIPTIONS[9]]);
      assert.deepEqual(Object.fromEntries(view?.columns.get('id')?.tags ?? []), { pii: '', [HOSTILE_TAG_KEYS[0] as string]: "it's `x`" });
      assert.equal(sales?.tables.get('mv_daily')?.owner, 'jane@corp.com');
      const wide = sales?.tables.get('wide');
      assert.equal(wide?.owner, GENERATED_PRINCIPALS[0]);
      assert.deepEqual(Object.fromEntries(wide?.tags ?? []), desired.schemas.sales.tables.wide.tags);
      random.forEach((text, i) => {
        assert.equal(wide?.columns.get(`c${i}`)?.comment, text);
        assert.equal(wide?.columns.get(`c${i}`)?.tags.get('g'), text);
      });
      const odd = main.schemas.get(HOSTILE_IDENTIFIERS.schema.toLowerCase());
      assert.equal(odd?.comment, HOSTILE_DESCRIPTIONS[6]);
      const oddTable = odd?.tables.get(HOSTILE_IDENTIFIERS.table.toLowerCase());
      assert.equal(oddTable?.comment, HOSTILE_DESCRIPTIONS[7]);
      assert.equal(oddTable?.columns.get(HOSTILE_IDENTIFIERS.column.toLowerCase())?.comment, HOSTILE_DESCRIPTIONS[5]);
      assert.equal(oddTable?.columns.get('mixedcase')?.comment, HOSTILE_DESCRIPTIONS[10]);

      const again = await createPlan(loaded);
      assert.deepEqual(again.plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('with prune off, sets only the listed keys and removes K: null, leaving other tags alone', async () => {
    const mv = main.schemas.get('sales')?.tables.get('mv_daily');
    mv?.tags.set('theirs', 'kept');
    mv?.tags.set('gone', 'x');
    const dir = await project({ service: 'lake', database: 'main', schemas: { sales: { tables: { mv_daily: { tags: { gone: null, ours: "it's" } } } } } }, { tags: { prune: false } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.deepEqual(plan.operations.map((operation) => operation.statements), [
        ["ALTER MATERIALIZED VIEW `main`.`sales`.`mv_daily` UNSET TAGS ('gone')", "ALTER MATERIALIZED VIEW `main`.`sales`.`mv_daily` SET TAGS ('ours' = 'it\\'s')"],
      ]);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      assert.equal(mv?.tags.get('theirs'), 'kept');
      assert.equal(mv?.tags.has('gone'), false);
      assert.equal(mv?.tags.get('ours'), "it's");
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('never prunes governed system.* and Data Classification class.* tags: skipped with the reason, and the object\'s other tags still change', async () => {
    const table = account.addTable(main.schemas.get('sales') as NonNullable<ReturnType<typeof main.schemas.get>>, 'governed', ['email']);
    table.tags.set('system.certification_status', 'certified');
    table.tags.set('old', 'x');
    table.columns.get('email')?.tags.set('class.email_address', '');
    const dir = await project({ service: 'lake', database: 'main', schemas: { sales: { tables: { governed: { tags: { k: 'v' }, columns: { email: { tags: {} } } } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.deepEqual(
        plan.changes.filter((change) => change.skipped).map((change) => [change.key, change.action, change.skipped]),
        [
          ['system.certification_status', 'remove', 'tag system.certification_status is not managed by metaform: a governed system tag (system.*), owned by Databricks; set options.manageEngineTags: true to manage it'],
          ['class.email_address', 'remove', 'tag class.email_address is not managed by metaform: a Data Classification tag (class.*), applied by Databricks; set options.manageEngineTags: true to manage it'],
        ],
      );
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error).filter(Boolean)));
      assert.deepEqual(Object.fromEntries(table.tags), { 'system.certification_status': 'certified', k: 'v' });
      assert.deepEqual(Object.fromEntries(table.columns.get('email')?.tags ?? []), { 'class.email_address': '' });
    } finally {
      await dir.remove();
      main.schemas.get('sales')?.tables.delete('governed');
    }
  });

  it('skips a foreign table\'s comments and tags with the reason (it accepts only SET OWNER and RENAME) and still gives it its owner', async () => {
    const table = account.addTable(main.schemas.get('sales') as NonNullable<ReturnType<typeof main.schemas.get>>, 'federated', ['id'], { type: 'FOREIGN' });
    const dir = await project({ service: 'lake', database: 'main', schemas: { sales: { tables: { federated: { description: 'mirrored', owners: ['jane@corp.com'], tags: { k: 'v' }, columns: { id: { description: 'Id', tags: { pii: '' } } } } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      const reason = 'a foreign table (Lakehouse Federation) accepts only SET OWNER and RENAME: its comments and tags live in the foreign catalog';
      assert.deepEqual(
        plan.changes.map((change) => [change.address, change.property, change.skipped ?? null]).sort(),
        [
          ['lake.main.sales.federated', 'description', reason],
          ['lake.main.sales.federated', 'owner', null],
          ['lake.main.sales.federated', 'tag', reason],
          ['lake.main.sales.federated.id', 'description', reason],
          ['lake.main.sales.federated.id', 'tag', reason],
        ],
      );
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error).filter(Boolean)));
      assert.deepEqual([table.owner, table.comment, table.tags.size], ['jane@corp.com', null, 0]);
    } finally {
      await dir.remove();
      main.schemas.get('sales')?.tables.delete('federated');
    }
  });

  it('refuses a stale saved plan', async () => {
    const dir = await project({ service: 'lake', database: 'main', schemas: { sales: { tables: { orders: { description: 'fresh', tags: { stale_test: 'a' } } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      main.schemas.get('sales')?.tables.get('orders')?.tags.set('stale_test', 'changed meanwhile');
      await assert.rejects(applyPlan(loaded, plan), /the plan is stale: 1 object changed since it was made/);
      const fresh = await createPlan(loaded);
      assert.equal((await applyPlan(loaded, fresh.plan)).failed, 0);
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('plans and applies COMMENT ON CATALOG for a YAML holding only a catalog description', async () => {
    const dir = await project({ service: 'lake', database: 'main', description: 'only the catalog' });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 2, 'the catalog and its tags; nothing below it');
      assert.deepEqual(plan.operations.flatMap((operation) => operation.statements), ["COMMENT ON CATALOG `main` IS 'only the catalog'"]);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      assert.equal(main.comment, 'only the catalog');
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('imports YAML (descriptions, owners, tags) that plans to no changes', async () => {
    // connection.database names what to import when `databases` is not set (and the session's catalog).
    const dir = await project({ service: 'lake', database: 'main' }, {}, 'databricks', { database: 'main' });
    try {
      const files = await importService(await loadProject(dir.dir), 'lake');
      assert.equal(files.length, 1);
      await writeFile(join(dir.dir, 'metadata/lake.yaml'), files[0]?.content ?? '');
      assert.match(files[0]?.content ?? '', /owners:/);
      assert.match(files[0]?.content ?? '', /tags:/);
      const { plan } = await createPlan(await loadProject(dir.dir));
      assert.deepEqual(plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('reports an unknown principal as that operation’s failure while the others apply', async () => {
    const dir = await project({ service: 'lake', database: 'main', schemas: { sales: { description: 'ok', tables: { orders: { owners: ['nobody@corp.com'] } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const report = await applyPlan(loaded, (await createPlan(loaded)).plan);
      assert.equal(report.succeeded, 1);
      assert.equal(report.failed, 1);
      assert.match(report.run.operations.find((operation) => operation.outcome === 'failed')?.error ?? '', /PRINCIPAL_DOES_NOT_EXIST/);
    } finally {
      await dir.remove();
    }
  });

  it('reports a statement the warehouse cannot parse with its error text (a custom template with a doubled quote)', async () => {
    const dir = await project(
      { service: 'lake', database: 'main', schemas: { sales: { tables: { orders: { description: 'via template' } } } } },
      { templates: { 'table.description': "COMMENT ON TABLE {object} IS 'it''s' -- {raw.value}" } },
    );
    try {
      const loaded = await loadProject(dir.dir);
      const report = await applyPlan(loaded, (await createPlan(loaded)).plan);
      assert.equal(report.failed, 1);
      assert.match(report.run.operations[0]?.error ?? '', /\[PARSE_SYNTAX_ERROR\] Syntax error at or near .*SQLSTATE: 42601/);
    } finally {
      await dir.remove();
    }
  });

  it('starts nothing once apply is interrupted: every operation left is reported not-run', async () => {
    const session = await databricksConnector.connect({ ...service, connection: connection() });
    try {
      const controller = new AbortController();
      controller.abort();
      const operation = (id: string) => ({ id, service: 'lake', database: 'main', changeIds: [id], statements: [`COMMENT ON SCHEMA main.sales IS '${id}'`] });
      const before = emulator.log.length;
      const results = await session.execute({ database: 'main', operations: [operation('a'), operation('b')], signal: controller.signal });
      assert.deepEqual(
        results.map((result) => [result.operationId, result.outcome, result.error]),
        [
          ['a', 'not-run', 'interrupted'],
          ['b', 'not-run', 'interrupted'],
        ],
      );
      assert.equal(emulator.log.length, before, 'no statement reached the warehouse');
    } finally {
      await session.close();
    }
  });

  it('retries a warehouse that answers 503 while it starts', async () => {
    const dir = await project({ service: 'lake', database: 'main', schemas: { sales: { description: 'after a restart' } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      emulator.failNext(2, 503, 'COMMENT ON');
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0);
      assert.equal(report.run.operations[0]?.attempts, 3);
      assert.equal(main.schemas.get('sales')?.comment, 'after a restart');
    } finally {
      await dir.remove();
    }
  });

  it('rejects tag keys, values and counts over the documented limits before connecting', async () => {
    const tooMany = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, '']));
    const dir = await project(
      {
        service: 'lake',
        database: 'main',
        schemas: { sales: { tags: tooMany, tables: { orders: { tags: { 'cost-center': 'x', ok: 'v'.repeat(1001) }, columns: { id: { tags: { 'a:b': '' } } } } } } },
      },
      {},
      'databricks',
      { host: '203.0.113.1' },
    );
    try {
      await assert.rejects(loadProject(dir.dir), (error: Error) => {
        assert.match(error.message, /lake\.main\.sales has 51 tags; Databricks allows at most 50/);
        assert.match(error.message, /tag key cost-center contains "-"/);
        assert.match(error.message, /tag ok on lake\.main\.sales\.orders is 1001 characters long; Databricks allows at most 1000/);
        assert.match(error.message, /tag key a:b contains ":"/);
        assert.match(error.message, /hint: write a key of at most 255 characters without \. , - = \/ :/);
        assert.doesNotMatch(error.message, /DATABASE\.SCHEMA\.TAG/, 'Snowflake’s hint is not Databricks’');
        return true;
      });
    } finally {
      await dir.remove();
    }
  });

  it('refuses two values for one tag key on one object (an ambiguous tag) before connecting', async () => {
    const dir = await project({ service: 'lake', database: 'main', schemas: { sales: { tables: { orders: { tags: { pii: 'email' } } } } } }, {}, 'unitycatalog', { host: '203.0.113.1' });
    try {
      await dir.write('metadata/more.yaml', { service: 'lake', database: 'main', schemas: { sales: { tables: { orders: { tags: { pii: 'phone' } } } } } });
      await assert.rejects(loadProject(dir.dir), /ambiguous tag pii on lake\.main\.sales\.orders: "email" \(metadata\/lake\.yaml:\d+:\d+\) and "phone"/);
    } finally {
      await dir.remove();
    }
  });

  it('hive_metastore: databricks sets schema, table and column descriptions and skips owners and tags with the reason; unitycatalog refuses it', async () => {
    const yaml = {
      service: 'lake',
      database: 'hive_metastore',
      schemas: { default: { description: "Legacy 'default'", owners: ['jane@corp.com'], tables: { legacy: { description: HOSTILE_DESCRIPTIONS[3], tags: { k: 'v' }, columns: { a: HOSTILE_DESCRIPTIONS[1] } } } } },
    };
    const dbx = await project(yaml);
    try {
      const loaded = await loadProject(dbx.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 4, 'SHOW SCHEMAS, DESCRIBE SCHEMA and SHOW TABLES of the one schema, DESCRIBE TABLE of its one table');
      assert.deepEqual(
        plan.changes.filter((planned) => planned.skipped !== undefined).map((planned) => [planned.property, planned.level]),
        [
          ['owner', 'schema'],
          ['tag', 'table'],
        ],
      );
      for (const planned of plan.changes.filter((c) => c.skipped)) assert.match(planned.skipped ?? '', /hive_metastore is not in Unity Catalog/);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      const legacy = emulator.account.catalogs.get('hive_metastore')?.schemas.get('default');
      assert.equal(legacy?.comment, "Legacy 'default'");
      assert.equal(legacy?.tables.get('legacy')?.comment, HOSTILE_DESCRIPTIONS[3]);
      assert.equal(legacy?.tables.get('legacy')?.columns.get('a')?.comment, HOSTILE_DESCRIPTIONS[1]);
      const again = await createPlan(loaded);
      assert.deepEqual(
        again.plan.changes.map((planned) => [planned.property, planned.skipped !== undefined]),
        [
          ['owner', true],
          ['tag', true],
        ],
        'only what hive_metastore cannot hold stays pending, with its reason',
      );
    } finally {
      await dbx.remove();
    }
    const uc = await project(yaml, {}, 'unitycatalog');
    try {
      await assert.rejects(createPlan(await loadProject(uc.dir)), /lake: hive_metastore is the legacy Hive metastore, not a Unity Catalog catalog; the unitycatalog type manages Unity Catalog catalogs only/);
    } finally {
      await uc.remove();
    }
  });

  it('fails at connect on a bad token or path, naming service, host and path, never the token', async () => {
    for (const [overrides, reason] of [
      [{ token: 'dapi-wrong-secret-token' }, /the access token was refused \(HTTP 401\)/],
      [{ path: '/sql/1.0/warehouses/missing' }, /no SQL warehouse answers at this HTTP path \(HTTP 404\)/],
    ] as const) {
      const dir = await project({ service: 'lake', database: 'main', description: 'x' }, {}, 'unitycatalog', overrides);
      try {
        await assert.rejects(createPlan(await loadProject(dir.dir)), (error: Error) => {
          assert.match(error.message, /cannot connect to Unity Catalog service lake at host 127\.0\.0\.1:\d+, path \/sql\/1\.0\/warehouses\/\w+/);
          assert.match(error.message, reason);
          assert.ok(!error.message.includes('dapi-wrong-secret-token') && !error.message.includes(emulator.token));
          return true;
        });
      } finally {
        await dir.remove();
      }
    }
  });

  it('passes OAuth M2M client id and secret to the client, and never prints the secret when it fails', async () => {
    // The client runs OAuth only on *.cloud.databricks.com-style hosts, through https://host/oidc on
    // port 443: against 127.0.0.1 it refuses before any request, which is the failure checked here.
    const dir = await project({ service: 'lake', database: 'main', description: 'x' }, {}, 'databricks', { token: undefined, clientId: 'sp-app-id', clientSecret: 'dose-very-secret' });
    try {
      await assert.rejects(createPlan(await loadProject(dir.dir)), (error: Error) => {
        assert.match(error.message, /cannot connect to Databricks service lake at host 127\.0\.0\.1:\d+, path \/sql\/1\.0\/warehouses\/emulated: OAuth is not supported for 127\.0\.0\.1/);
        assert.ok(!error.message.includes('dose-very-secret'));
        return true;
      });
    } finally {
      await dir.remove();
    }
  });
});
