/**
 * The snowflake connector end to end: the unmodified snowflake-sdk against the Snowflake
 * emulator, through plan -> apply -> plan.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importService } from '../src/core/import.js';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { StalePlanError } from '../src/core/verify.js';
import { statementsOf } from './support/plan.js';
import { loadProject } from '../src/core/project.js';
import { MetaformError, MetaformErrors } from '../src/core/errors.js';
import { quoteSnowflakeLiteral, renderSnowflake } from '../src/connectors/snowflake/dialect.js';
import { storedName, spellName } from '../src/connectors/snowflake/names.js';
import { SnowflakeSession } from '../src/connectors/snowflake/client.js';
import { catalogQueries } from '../src/connectors/snowflake/catalog.js';
import { findLive } from '../src/core/model.js';
import type { CatalogNode } from './emulators/kit/catalog.js';
import { startSnowflakeEmulator, type SnowflakeEmulator } from './emulators/snowflake/server.js';
import { converge } from './support/converge.js';
import { tempProject, type TempProject } from './support/project.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS, HOSTILE_IDENTIFIERS } from './support/strings.js';

/** Tag values hold at most 256 characters: the hostile descriptions that fit. */
const HOSTILE_TAG_VALUES = HOSTILE_DESCRIPTIONS.filter((text) => text.length <= 256);

describe('Snowflake names and quoting', () => {
  it('folds unquoted names to upper case, keeps "quoted" ones, and spells stored names back', () => {
    assert.equal(storedName('orders'), 'ORDERS');
    assert.equal(storedName('ORDERS'), 'ORDERS');
    assert.equal(storedName('"Orders"'), 'Orders');
    assert.equal(storedName('"say ""hi"""'), 'say "hi"');
    assert.equal(storedName("Order's Items"), "Order's Items", 'not an identifier: taken as written');
    for (const stored of ['ORDERS', 'Orders', 'say "hi"', "Order's Items", 'A$B', '"x"']) assert.equal(storedName(spellName(stored)), stored);
  });

  it('escapes backslashes and quotes in literals', () => {
    assert.equal(quoteSnowflakeLiteral(`it's \\ \0`), `'it''s \\\\ \\x00'`);
  });

  it('renders removal with UNSET, owners with COPY CURRENT GRANTS, column tags with MODIFY COLUMN', () => {
    const base = { service: 'wh', address: 'a', before: 'x' as string | null };
    const rendered = renderSnowflake(
      [
        { ...base, id: '1', path: ['DB', 'S', 'V'], level: 'table', property: 'description', action: 'remove', after: null },
        { ...base, id: '2', path: ['DB', 'S'], level: 'schema', property: 'owner', action: 'update', after: 'data_platform' },
        { ...base, id: '3', path: ['DB', 'S', 'T', 'C'], level: 'column', property: 'tag', key: 'PII', action: 'update', after: "it's" },
        { ...base, id: '4', path: ['DB', 'S', 'V', 'C'], level: 'column', property: 'description', action: 'remove', after: null },
        { ...base, id: '5', path: ['DB', 'S', 'T', 'C'], level: 'column', property: 'tag', key: 'OTHER.TAGS.TIER', action: 'add', before: null, after: 'gold' },
        { ...base, id: '6', path: ['DB', 'S', 'T', 'C'], level: 'column', property: 'tag', key: '"Mixed"', action: 'remove', after: null },
      ],
      {
        service: 'wh',
        server: {},
        queries: 0,
        databases: new Map([
          ['DB', { level: 'database', name: 'DB', children: new Map([['S', { level: 'schema', name: 'S', children: new Map([['V', { level: 'table', name: 'V', facts: { tableType: 'VIEW' }, children: new Map() }]]) }]]) }],
        ]),
      },
      { name: 'wh', type: 'snowflake', connection: {}, tags: { prune: true }, owners: { map: {} }, templates: {}, options: { tagSchema: 'GOVERNANCE.TAGS' } },
    );
    assert.deepEqual(rendered.operations.map((operation) => operation.statements), [
      ['ALTER VIEW "DB"."S"."V" UNSET COMMENT'],
      ['GRANT OWNERSHIP ON SCHEMA "DB"."S" TO ROLE "DATA_PLATFORM" COPY CURRENT GRANTS'],
      ['ALTER VIEW "DB"."S"."V" ALTER COLUMN "C" UNSET COMMENT'],
      [`ALTER TABLE "DB"."S"."T" MODIFY COLUMN "C" SET TAG "GOVERNANCE"."TAGS"."PII" = 'it''s', "OTHER"."TAGS"."TIER" = 'gold'`],
      ['ALTER TABLE "DB"."S"."T" MODIFY COLUMN "C" UNSET TAG "GOVERNANCE"."TAGS"."Mixed"'],
    ]);
    assert.deepEqual(rendered.operations[3]?.changeIds, ['3', '5'], 'the tags set on one object are one statement');
  });
});

describe('Snowflake driver loading', () => {
  it('loads the driver without creating ~/.cache/snowflake (its OCSP cache goes to a temporary folder)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'metaform-home-'));
    try {
      const script = `
        const { loadSnowflakeDriver } = await import(${JSON.stringify(new URL('../src/connectors/snowflake/client.ts', import.meta.url).href)});
        await loadSnowflakeDriver();
        console.log(JSON.stringify({ detection: process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION, telemetry: process.env.SF_TELEMETRY_DISABLE_CONNECTION_SHAPE }));`;
      const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, HOME: home } });
      assert.deepEqual(JSON.parse(output.trim().split('\n').pop() ?? ''), { detection: 'true', telemetry: '1' });
      assert.deepEqual(await readdir(home), []);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  it('loads snowflake-sdk only when a Snowflake service connects: loading and validating a project loads none of it', async () => {
    const dir = await tempProject(
      { version: 1, services: { wh: { type: 'snowflake', connection: { account: 'a', user: 'u', password: 'p' }, options: { tagSchema: 'G.T' } } } },
      { 'metadata/wh.yaml': { service: 'wh', database: 'analytics', tags: { PII: 'x' } } },
    );
    try {
      const script = `
        import { createRequire } from 'node:module';
        const { loadProject } = await import(${JSON.stringify(new URL('../src/core/project.ts', import.meta.url).href)});
        await loadProject(${JSON.stringify(dir.dir)});
        const cache = createRequire(import.meta.url)('node:module')._cache;
        const loaded = Object.keys(cache).filter((path) => path.includes('snowflake-sdk')).length;
        console.log(JSON.stringify({ loaded, detection: process.env.SNOWFLAKE_DISABLE_PLATFORM_DETECTION ?? null }));`;
      const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.deepEqual(JSON.parse(output.trim().split('\n').pop() ?? ''), { loaded: 0, detection: null });
    } finally {
      await dir.remove();
    }
  });
});

describe('Snowflake end to end: snowflake-sdk against the emulator', () => {
  let emulator: SnowflakeEmulator;
  const { schema: oddSchema, table: oddTable, column: oddColumn } = HOSTILE_IDENTIFIERS;
  const q = (stored: string) => `"${stored.replaceAll('"', '""')}"`;
  const generated = generatedStrings(20, 7);

  before(async () => {
    emulator = await startSnowflakeEmulator({ chunkRows: 50 });
    const run = (sql: string) => emulator.run(sql);
    run('CREATE DATABASE governance');
    run('CREATE SCHEMA governance.tags');
    run('CREATE SCHEMA governance.other');
    run('CREATE TAG governance.tags.pii');
    run('CREATE TAG governance.tags.tier');
    run("CREATE TAG governance.tags.cost_center ALLOWED_VALUES 'finance', 'engineering'");
    run('CREATE TAG governance.other.pii');
    run('CREATE TAG governance.other.region');
    run('CREATE ROLE data_platform');
    run('CREATE ROLE "Analysts"');
    run('CREATE DATABASE analytics');
    run('CREATE SCHEMA analytics.sales');
    run('CREATE TABLE analytics.sales.orders (id NUMBER, email VARCHAR, amount NUMBER(12,2))');
    run('CREATE TABLE analytics.sales."Orders" (id NUMBER, "Mixed Case" VARCHAR)');
    run('CREATE VIEW analytics.sales.order_emails AS SELECT id, email FROM analytics.sales.orders');
    run(`CREATE TABLE analytics.sales.wide (${generated.map((_, i) => `c${i} NUMBER`).join(', ')})`);
    run(`CREATE SCHEMA analytics.${q(oddSchema)}`);
    run(`CREATE TABLE analytics.${q(oddSchema)}.${q(oddTable)} (${q(oddColumn)} NUMBER)`);
  });
  after(() => emulator.close());

  const service = (extra: object = {}) => ({
    type: 'snowflake',
    connection: { account: 'emulated', user: 'metaform', password: '${SF_TEST_PASSWORD:-secret}', accessUrl: emulator.url },
    options: { tagSchema: 'GOVERNANCE.TAGS' },
    ...extra,
  });
  const project = (metadata: object, extra: object = {}): Promise<TempProject> =>
    tempProject({ version: 1, services: { wh: service(extra) } }, { 'metadata/wh.yaml': metadata });

  const node = (...path: string[]): CatalogNode | undefined => {
    const [db = '', schema, table, column] = path;
    const database = emulator.engine.catalog.databases.get(db);
    if (schema === undefined) return database;
    const s = database?.schemas.get(schema);
    if (table === undefined) return s;
    const t = s?.tables.get(table);
    return column === undefined ? t : t?.columns.get(column);
  };
  const tags = (...path: string[]) => Object.fromEntries([...(node(...path)?.tags.values() ?? [])].map(({ tag, value }) => [tag.name, value]));

  it('plans, applies and converges: hostile descriptions and tag values, folded and quoted names, owners', async () => {
    const dir = await project({
      service: 'wh',
      database: 'analytics',
      description: HOSTILE_DESCRIPTIONS[0],
      owners: ['data_platform'],
      tags: { TIER: 'gold' },
      schemas: {
        sales: {
          description: 'Sales mart',
          owners: ['"Analysts"'],
          tags: { PII: HOSTILE_TAG_VALUES[1] ?? '', 'GOVERNANCE.OTHER.REGION': 'other schema, full name' },
          tables: {
            orders: {
              description: HOSTILE_DESCRIPTIONS.join('|'),
              owners: ['DATA_PLATFORM'],
              tags: Object.fromEntries(HOSTILE_TAG_VALUES.slice(0, 1).map((value) => ['PII', value])),
              columns: {
                id: 'Order id',
                email: { description: HOSTILE_DESCRIPTIONS[6], tags: { PII: HOSTILE_TAG_VALUES[4] ?? '', COST_CENTER: 'finance' } },
                amount: { tags: { TIER: HOSTILE_TAG_VALUES[6] ?? '' } },
              },
            },
            '"Orders"': { description: 'mixed case, quoted', columns: { '"Mixed Case"': HOSTILE_DESCRIPTIONS[3] } },
            order_emails: { description: 'a view', tags: { TIER: 'view tag' }, columns: { email: { description: 'view column', tags: { PII: 'yes' } } } },
            wide: { columns: Object.fromEntries(generated.map((text, i) => [`c${i}`, { description: text, tags: { PII: text } }])) },
          },
        },
        [oddSchema]: { description: HOSTILE_DESCRIPTIONS[4], tables: { [oddTable]: { description: HOSTILE_DESCRIPTIONS[7], columns: { [oddColumn]: HOSTILE_DESCRIPTIONS[8] } } } },
      },
    });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 5 + 2 + 1, 'database, schemas, tables, columns, ACCOUNT_USAGE tags; SHOW TAGS in each of the 2 tag schemas; one real-time batch');
      await converge(dir);
      assert.equal(node('ANALYTICS')?.comment, HOSTILE_DESCRIPTIONS[0]);
      assert.equal(node('ANALYTICS', 'SALES', 'ORDERS')?.comment, HOSTILE_DESCRIPTIONS.join('|'));
      assert.equal(node('ANALYTICS', 'SALES', 'ORDERS', 'EMAIL')?.comment, HOSTILE_DESCRIPTIONS[6]);
      assert.equal(node('ANALYTICS', 'SALES', 'Orders', 'Mixed Case')?.comment, HOSTILE_DESCRIPTIONS[3]);
      assert.equal(node('ANALYTICS', 'SALES', 'ORDER_EMAILS', 'EMAIL')?.comment, 'view column');
      assert.equal(node('ANALYTICS', oddSchema, oddTable, oddColumn)?.comment, HOSTILE_DESCRIPTIONS[8]);
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'ORDERS', 'EMAIL'), { PII: HOSTILE_TAG_VALUES[4], COST_CENTER: 'finance' });
      assert.deepEqual(tags('ANALYTICS', 'SALES'), { PII: HOSTILE_TAG_VALUES[1], REGION: 'other schema, full name' });
      assert.deepEqual(generated.map((text, i) => node('ANALYTICS', 'SALES', 'WIDE', `C${i}`)?.comment), generated);
      assert.deepEqual(generated.map((text, i) => tags('ANALYTICS', 'SALES', 'WIDE', `C${i}`)['PII']), generated);
      assert.equal(node('ANALYTICS')?.owner, 'DATA_PLATFORM');
      assert.equal(node('ANALYTICS', 'SALES')?.owner, 'Analysts');
      assert.ok(plan.operations.some((operation) => operation.statements.some((statement) => statement.includes('COPY CURRENT GRANTS'))));
    } finally {
      await dir.remove();
    }
  });

  it('describes, tags and owns materialized views, dynamic and external tables, with the keyword of their kind', async () => {
    emulator.run('CREATE MATERIALIZED VIEW analytics.sales.order_totals AS SELECT id, amount FROM analytics.sales.orders');
    emulator.run("CREATE DYNAMIC TABLE analytics.sales.order_feed TARGET_LAG = '1 minute' WAREHOUSE = wh AS SELECT id FROM analytics.sales.orders");
    emulator.run('CREATE EXTERNAL TABLE analytics.sales.order_files (id NUMBER)');
    emulator.run("COMMENT ON COLUMN analytics.sales.order_feed.id IS 'to remove'");
    const table = (description: string) => ({ description, owners: ['data_platform'], tags: { TIER: description } });
    const dir = await project({
      service: 'wh',
      database: 'analytics',
      schemas: {
        sales: {
          tables: {
            order_totals: { ...table('materialized'), columns: { amount: { description: 'mv column', tags: { PII: 'no' } } } },
            order_feed: { ...table('dynamic'), columns: { id: null } },
            order_files: { ...table('external'), columns: { id: 'external column' } },
          },
        },
      },
    });
    try {
      await converge(dir);
      for (const [name, kind, text] of [['ORDER_TOTALS', 'MATERIALIZED VIEW', 'materialized'], ['ORDER_FEED', 'DYNAMIC TABLE', 'dynamic'], ['ORDER_FILES', 'EXTERNAL TABLE', 'external']] as const) {
        assert.equal(node('ANALYTICS', 'SALES', name)?.comment, text);
        assert.equal(node('ANALYTICS', 'SALES', name)?.owner, 'DATA_PLATFORM');
        assert.deepEqual(tags('ANALYTICS', 'SALES', name), { TIER: text });
        assert.ok(emulator.engine.statements.includes(`COMMENT ON ${kind} "ANALYTICS"."SALES"."${name}" IS '${text}'`));
      }
      assert.equal(node('ANALYTICS', 'SALES', 'ORDER_TOTALS', 'AMOUNT')?.comment, 'mv column');
      assert.equal(node('ANALYTICS', 'SALES', 'ORDER_FEED', 'ID')?.comment, '');
      assert.equal(node('ANALYTICS', 'SALES', 'ORDER_FILES', 'ID')?.comment, 'external column');
    } finally {
      await dir.remove();
    }
  });

  it('describes and tags Iceberg tables with ALTER ICEBERG TABLE, and removes an external table\'s comment without ALTER EXTERNAL TABLE … UNSET COMMENT', async () => {
    emulator.run('CREATE ICEBERG TABLE analytics.sales.lake_orders (id NUMBER, note VARCHAR)');
    emulator.run('CREATE EXTERNAL TABLE analytics.sales.raw_files (id NUMBER)');
    emulator.run("COMMENT ON EXTERNAL TABLE analytics.sales.raw_files IS 'to remove'");
    const tables = {
      lake_orders: { description: "Iceberg's orders", tags: { PII: 'no' }, columns: { id: { description: 'Order id', tags: { TIER: 'gold' } }, note: 'a\\b' } },
      raw_files: { description: null },
    };
    const dir = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables } } });
    try {
      await converge(dir);
      assert.equal(node('ANALYTICS', 'SALES', 'LAKE_ORDERS')?.comment, "Iceberg's orders");
      assert.equal(node('ANALYTICS', 'SALES', 'LAKE_ORDERS', 'ID')?.comment, 'Order id');
      assert.equal(node('ANALYTICS', 'SALES', 'LAKE_ORDERS', 'NOTE')?.comment, 'a\\b');
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'LAKE_ORDERS'), { PII: 'no' });
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'LAKE_ORDERS', 'ID'), { TIER: 'gold' });
      assert.equal(node('ANALYTICS', 'SALES', 'RAW_FILES')?.comment || null, null);
    } finally {
      await dir.remove();
    }
    assert.throws(() => emulator.run("COMMENT ON TABLE analytics.sales.lake_orders IS 'x'"), /091367|Iceberg tables should use ALTER ICEBERG TABLE/);
    assert.throws(() => emulator.run('ALTER EXTERNAL TABLE analytics.sales.raw_files UNSET COMMENT'), /syntax error/);
    // Nothing else in the suite expects these tables.
    emulator.engine.catalog.databases.get('ANALYTICS')?.schemas.get('SALES')?.tables.delete('LAKE_ORDERS');
    emulator.engine.catalog.databases.get('ANALYTICS')?.schemas.get('SALES')?.tables.delete('RAW_FILES');
  });

  it('changes, prunes and removes tags; removes descriptions with UNSET COMMENT', async () => {
    emulator.run("ALTER TABLE analytics.sales.\"Orders\" SET TAG governance.tags.pii = 'a', governance.tags.tier = 'b'");
    emulator.run("ALTER TABLE analytics.sales.\"Orders\" MODIFY COLUMN id SET TAG governance.tags.pii = 'c'");
    emulator.run("COMMENT ON TABLE analytics.sales.\"Orders\" IS 'to remove'");
    const metadata = () => ({
      service: 'wh',
      database: 'analytics',
      schemas: { sales: { tables: { '"Orders"': { description: null, tags: { PII: 'changed' }, columns: { id: { tags: { PII: null } } } } } } },
    });
    const dir = await project(metadata(), { tags: { prune: false } });
    try {
      await converge(dir);
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'Orders'), { PII: 'changed', TIER: 'b' }, 'prune off: TIER stays');
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'Orders', 'ID'), {});
      assert.equal(node('ANALYTICS', 'SALES', 'Orders')?.comment, null);
      assert.ok(emulator.engine.statements.some((statement) => /UNSET TAG "GOVERNANCE"."TAGS"."PII"$/.test(statement)));
      assert.ok(emulator.engine.statements.some((statement) => statement === 'ALTER TABLE "ANALYTICS"."SALES"."Orders" UNSET COMMENT'));
    } finally {
      await dir.remove();
    }
    const pruning = await project(metadata());
    try {
      await converge(pruning);
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'Orders'), { PII: 'changed' }, 'prune on: TIER goes');
    } finally {
      await pruning.remove();
    }
  });

  it('never prunes engine-owned tags: SNOWFLAKE.CORE system tags and classified or propagated assignments are skipped with the reason', async () => {
    emulator.run('CREATE TABLE analytics.sales.classified (email VARCHAR, id NUMBER)');
    emulator.engine.classify(['ANALYTICS', 'SALES', 'CLASSIFIED'], 'EMAIL', { privacy: 'IDENTIFIER', semantic: 'EMAIL' });
    const email = node('ANALYTICS', 'SALES', 'CLASSIFIED', 'EMAIL') as CatalogNode;
    emulator.engine.propagate(email, ['GOVERNANCE', 'TAGS', 'TIER'], 'gold');
    emulator.run("ALTER TABLE analytics.sales.classified MODIFY COLUMN id SET TAG governance.tags.pii = 'manual'");
    const engineTags = { PRIVACY_CATEGORY: 'IDENTIFIER', SEMANTIC_CATEGORY: 'EMAIL', TIER: 'gold' };
    const dir = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables: { classified: { columns: { email: { tags: {} }, id: { tags: {} } } } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.deepEqual(
        plan.changes.map((change) => [change.address, change.key, change.action, change.skipped ?? null]),
        [
          ['wh.ANALYTICS.SALES.CLASSIFIED.EMAIL', 'SNOWFLAKE.CORE.PRIVACY_CATEGORY', 'remove', 'tag SNOWFLAKE.CORE.PRIVACY_CATEGORY is not managed by metaform: a Snowflake system tag (SNOWFLAKE.CORE), set by data classification; set options.manageEngineTags: true to manage it'],
          ['wh.ANALYTICS.SALES.CLASSIFIED.EMAIL', 'SNOWFLAKE.CORE.SEMANTIC_CATEGORY', 'remove', 'tag SNOWFLAKE.CORE.SEMANTIC_CATEGORY is not managed by metaform: a Snowflake system tag (SNOWFLAKE.CORE), set by data classification; set options.manageEngineTags: true to manage it'],
          ['wh.ANALYTICS.SALES.CLASSIFIED.EMAIL', 'TIER', 'remove', 'tag TIER is not managed by metaform: applied by tag propagation (APPLY_METHOD PROPAGATED); set options.manageEngineTags: true to manage it'],
          ['wh.ANALYTICS.SALES.CLASSIFIED.ID', 'PII', 'remove', null],
        ].sort(),
      );
      assert.deepEqual(plan.operations.flatMap((operation) => operation.statements), ['ALTER TABLE "ANALYTICS"."SALES"."CLASSIFIED" MODIFY COLUMN "ID" UNSET TAG "GOVERNANCE"."TAGS"."PII"']);
      const report = await applyPlan(loaded, JSON.parse(JSON.stringify(plan)));
      assert.equal(report.failed, 0);
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'CLASSIFIED', 'EMAIL'), engineTags, 'the engine\'s tags survive a pruning apply');
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'CLASSIFIED', 'ID'), {});
    } finally {
      await dir.remove();
    }
    // The documented option hands them to metaform.
    const managing = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables: { classified: { columns: { email: { tags: {} } } } } } } }, {
      options: { tagSchema: 'GOVERNANCE.TAGS', manageEngineTags: true },
    });
    try {
      await converge(managing);
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'CLASSIFIED', 'EMAIL'), {});
    } finally {
      await managing.remove();
    }
  });

  it('confirms tags in real time before planning: a tag ACCOUNT_USAGE has not seen yet is not set again', async () => {
    emulator.engine.freezeAccountUsage();
    try {
      emulator.run("ALTER TABLE analytics.sales.orders MODIFY COLUMN amount SET TAG governance.tags.pii = 'already'");
      emulator.run("ALTER TABLE analytics.sales.orders MODIFY COLUMN id SET TAG governance.tags.pii = 'was x'");
      const dir = await project({
        service: 'wh',
        database: 'analytics',
        schemas: { sales: { tables: { orders: { columns: { amount: { tags: { PII: 'already' } }, id: { tags: { PII: 'y' } } } } } } },
      }, { tags: { prune: false } });
      try {
        const { plan } = await createPlan(await loadProject(dir.dir));
        assert.deepEqual(
          plan.changes.map((change) => [change.address, change.key, change.action, change.before, change.after]),
          [['wh.ANALYTICS.SALES.ORDERS.ID', 'PII', 'update', 'was x', 'y']],
        );
      } finally {
        await dir.remove();
      }
    } finally {
      emulator.engine.thawAccountUsage();
    }
  });

  it('with prune on, a tag set in real time on an object whose tags change is removed, though ACCOUNT_USAGE has not seen it', async () => {
    emulator.run("ALTER TABLE analytics.sales.wide SET TAG governance.tags.pii = 'kept'");
    emulator.engine.freezeAccountUsage();
    try {
      emulator.run("ALTER TABLE analytics.sales.wide SET TAG governance.tags.cost_center = 'finance'");
      const dir = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables: { wide: { tags: { PII: 'kept', TIER: 'new' } } } } } });
      try {
        const { plan } = await createPlan(await loadProject(dir.dir));
        assert.deepEqual(
          plan.changes.map((change) => [change.key, change.action, change.before, change.after]),
          [['TIER', 'add', null, 'new'], ['COST_CENTER', 'remove', 'finance', null]],
        );
        assert.deepEqual(plan.operations.flatMap((operation) => operation.statements), [
          `ALTER TABLE "ANALYTICS"."SALES"."WIDE" SET TAG "GOVERNANCE"."TAGS"."TIER" = 'new'`,
          'ALTER TABLE "ANALYTICS"."SALES"."WIDE" UNSET TAG "GOVERNANCE"."TAGS"."COST_CENTER"',
        ]);
      } finally {
        await dir.remove();
      }
    } finally {
      emulator.engine.thawAccountUsage();
      emulator.run('ALTER TABLE analytics.sales.wide UNSET TAG governance.tags.cost_center, governance.tags.pii');
    }
  });

  it('reads in real time the objects a read names as `current` (a saved plan checked for staleness), whatever ACCOUNT_USAGE still shows', async () => {
    emulator.engine.freezeAccountUsage();
    const session = await SnowflakeSession.open({
      name: 'wh',
      type: 'snowflake',
      connection: { account: 'emulated', user: 'metaform', password: 'secret', accessUrl: emulator.url },
      tags: { prune: true },
      owners: { map: {} },
      templates: {},
      options: { tagSchema: 'GOVERNANCE.TAGS' },
    });
    try {
      emulator.run("ALTER TABLE analytics.sales.orders MODIFY COLUMN amount SET TAG governance.tags.tier = 'fresh'");
      const scope = { databases: ['ANALYTICS'], schemas: new Map([['ANALYTICS', ['SALES']]]) };
      const amount = ['ANALYTICS', 'SALES', 'ORDERS', 'AMOUNT'];
      assert.notEqual(findLive(await session.read(scope), amount)?.tags?.['TIER'], 'fresh', 'ACCOUNT_USAGE has not seen it yet');
      const current = await session.read({ ...scope, current: [amount] });
      assert.equal(findLive(current, amount)?.tags?.['TIER'], 'fresh');
      assert.equal(current.queries, 5 + 1);
    } finally {
      emulator.engine.thawAccountUsage();
      await session.close();
    }
  });

  it('fails plan for a missing tag object, naming the CREATE TAG that fixes it; with createTags it is a change of its own', async () => {
    const metadata = { service: 'wh', database: 'analytics', schemas: { sales: { tables: { orders: { tags: { OWNER_TEAM: 'growth', PII: 'p' } } } } } };
    const dir = await project(metadata);
    try {
      await assert.rejects(createPlan(await loadProject(dir.dir)), (error: MetaformError) => {
        assert.match(error.message, /tag object "GOVERNANCE"\."TAGS"\."OWNER_TEAM" does not exist \(tag OWNER_TEAM on wh\.ANALYTICS\.SALES\.ORDERS\)/);
        assert.match(error.hint ?? '', /CREATE TAG IF NOT EXISTS "GOVERNANCE"\."TAGS"\."OWNER_TEAM"/);
        assert.match(String(error), /wh\.yaml:\d+:\d+/);
        return true;
      });
    } finally {
      await dir.remove();
    }
    const creating = await project(metadata, { options: { tagSchema: 'GOVERNANCE.TAGS', createTags: true } });
    try {
      const { plan } = await createPlan(await loadProject(creating.dir));
      const create = plan.changes.find((change) => change.origin === 'prepare');
      assert.deepEqual(statementsOf(plan, create), ['CREATE TAG IF NOT EXISTS "GOVERNANCE"."TAGS"."OWNER_TEAM"']);
      assert.deepEqual([create?.address, create?.action, create?.after], ['wh.GOVERNANCE.TAGS', 'add', 'tag object GOVERNANCE.TAGS.OWNER_TEAM']);
      await converge(creating);
      assert.equal(tags('ANALYTICS', 'SALES', 'ORDERS')['OWNER_TEAM'], 'growth');
    } finally {
      await creating.remove();
    }
  });

  it('fails plan for a value outside ALLOWED_VALUES, naming the allowed values', async () => {
    const dir = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables: { orders: { tags: { COST_CENTER: 'marketing' } } } } } });
    try {
      await assert.rejects(createPlan(await loadProject(dir.dir)), /COST_CENTER = 'marketing' on wh\.ANALYTICS\.SALES\.ORDERS is not among the allowed values of "GOVERNANCE"\."TAGS"\."COST_CENTER": 'finance', 'engineering'/);
    } finally {
      await dir.remove();
    }
  });

  it('fails validation, before connecting, for 51 tags, a 257-character value, a key not spelled as Snowflake folds it, two spellings of one table', async () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`T${i}`, 'v']));
    const cases: [object, RegExp][] = [
      [{ tables: { orders: { tags: many } } }, /has 51 tags; Snowflake allows at most 50 on one object/],
      [{ tables: { orders: { tags: { PII: 'x'.repeat(257) } } } }, /tag PII on wh\.analytics\.sales\.orders is 257 characters long; Snowflake allows at most 256/],
      [{ tables: { orders: { tags: { pii: 'x' } } } }, /tag key pii on wh\.analytics\.sales\.orders names the tag PII[\s\S]*write it as PII/],
      [{ tables: { orders: 'a', ORDERS: 'b' } }, /table "ORDERS" and "orders" resolve to the same object/],
    ];
    for (const [sales, expected] of cases) {
      const dir = await tempProject(
        { version: 1, services: { wh: { ...service(), connection: { account: 'emulated', user: 'u', password: 'p', accessUrl: 'http://127.0.0.1:9' } } } },
        { 'metadata/wh.yaml': { service: 'wh', database: 'analytics', schemas: { sales } } },
      );
      try {
        await assert.rejects(loadProject(dir.dir), (error: Error) => {
          const text = error instanceof MetaformErrors ? error.errors.map(String).join('\n') : String(error);
          assert.match(text, expected);
          assert.match(text, /wh\.yaml:\d+:\d+/);
          return true;
        });
      } finally {
        await dir.remove();
      }
    }
  });

  it('fails validation for a bare tag key when the service names no tag schema', async () => {
    const dir = await tempProject(
      { version: 1, services: { wh: { type: 'snowflake', connection: { account: 'emulated', user: 'u', password: 'p' } } } },
      { 'metadata/wh.yaml': { service: 'wh', database: 'analytics', tags: { PII: 'x', 'GOVERNANCE.TAGS.TIER': 'y' } } },
    );
    try {
      await assert.rejects(loadProject(dir.dir), /wh\.yaml:\d+:\d+: tag key PII names no schema, and the service has no options\.tagSchema of the form DATABASE\.SCHEMA \(on wh\.analytics\)/);
    } finally {
      await dir.remove();
    }
  });

  it('reports two tag objects of one name on one object as an ambiguous tag at read time', async () => {
    emulator.run("ALTER VIEW analytics.sales.order_emails SET TAG governance.tags.pii = 'a', governance.other.pii = 'b'");
    const dir = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables: { order_emails: { description: 'x' } } } } });
    try {
      await assert.rejects(createPlan(await loadProject(dir.dir)), /ambiguous tag PII on wh\.ANALYTICS\.SALES\.ORDER_EMAILS: tag objects GOVERNANCE\.OTHER\.PII and GOVERNANCE\.TAGS\.PII|ambiguous tag PII on wh\.ANALYTICS\.SALES\.ORDER_EMAILS: tag objects GOVERNANCE\.TAGS\.PII and GOVERNANCE\.OTHER\.PII/);
    } finally {
      emulator.run('ALTER VIEW analytics.sales.order_emails UNSET TAG governance.other.pii');
      await dir.remove();
    }
  });

  it('refuses a stale saved plan, retries a transient failure, and imports YAML that plans to no changes', async () => {
    const dir = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables: { orders: { description: 'fresh', tags: { PII: 'stale?' } } } } } }, { tags: { prune: false } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      emulator.run("COMMENT ON TABLE analytics.sales.orders IS 'changed meanwhile'");
      await assert.rejects(applyPlan(loaded, plan), StalePlanError);
      const fresh = await createPlan(loaded);
      const statement = fresh.plan.operations.find((operation) => operation.statements[0]?.startsWith('COMMENT ON TABLE'))?.statements[0] ?? '';
      emulator.failOnce.add(statement);
      const report = await applyPlan(loaded, fresh.plan);
      assert.equal(report.failed, 0);
      assert.equal(report.run.operations.find((operation) => operation.statements[0] === statement)?.attempts, 2);
    } finally {
      await dir.remove();
    }
    // import reads connection.database, written as in SQL: analytics is ANALYTICS.
    const importing = await project({ service: 'wh', database: 'analytics' }, { connection: { account: 'emulated', user: 'metaform', password: 'secret', accessUrl: emulator.url, database: 'analytics' } });
    try {
      const files = await importService(await loadProject(importing.dir), 'wh');
      for (const file of files) await importing.write(file.path, file.content);
      await importing.write('metadata/wh.yaml', '');
      const content = files.map((file) => file.content).join('\n');
      assert.match(content, /'"Orders"':/);
      assert.match(content, /PII:/);
      const { plan } = await createPlan(await loadProject(importing.dir));
      assert.deepEqual(plan.changes.map((change) => change.id), []);
    } finally {
      await importing.remove();
    }
  });

  it('renders tag templates with the tag object quoted as an identifier and the value as a literal', async () => {
    const dir = await project(
      { service: 'wh', database: 'analytics', schemas: { sales: { tables: { wide: { tags: { TIER: "it's \\ $$ templated" } } } } } },
      { templates: { 'table.tag.set': 'ALTER TABLE {database}.{object} SET TAG {tag_key} = {tag_value} /* {raw.table} */' }, tags: { prune: false } },
    );
    try {
      const { plan } = await createPlan(await loadProject(dir.dir));
      assert.deepEqual(plan.operations.flatMap((operation) => operation.statements), [`ALTER TABLE "ANALYTICS"."SALES"."WIDE" SET TAG "GOVERNANCE"."TAGS"."TIER" = 'it''s \\\\ $$ templated' /* WIDE */`]);
      await converge(dir);
      assert.equal(tags('ANALYTICS', 'SALES', 'WIDE')['TIER'], "it's \\ $$ templated");
    } finally {
      await dir.remove();
    }
  });

  it('logs in with a key pair (encrypted private key, passphrase) and with an OAuth token', async () => {
    const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
    emulator.users.set('KEYED', { publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    emulator.users.set('OAUTHED', { oauthToken: 'oauth-token-1' });
    const privateKey = keys.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'open sesame' }).toString();
    for (const connection of [
      { account: 'emulated', user: 'keyed', privateKey, privateKeyPass: 'open sesame', accessUrl: emulator.url },
      { account: 'emulated', user: 'oauthed', token: 'oauth-token-1', accessUrl: emulator.url },
    ]) {
      const dir = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables: { wide: { description: null } } } } }, { connection });
      try {
        const { plan } = await createPlan(await loadProject(dir.dir));
        assert.deepEqual(plan.changes, []);
      } finally {
        await dir.remove();
      }
    }
  });

  it('says which grant reading tags needs; reports an operation the role may not run and still applies the others', async () => {
    emulator.run('CREATE ROLE limited');
    emulator.run('CREATE TABLE analytics.sales.limited_owned (id NUMBER)');
    emulator.run('GRANT OWNERSHIP ON TABLE analytics.sales.limited_owned TO ROLE limited COPY CURRENT GRANTS');
    const dir = await project(
      { service: 'wh', database: 'analytics', schemas: { sales: { tables: { limited_owned: 'may change', orders: 'may not change' } } } },
      { connection: { account: 'emulated', user: 'metaform', password: 'secret', role: 'limited', accessUrl: emulator.url } },
    );
    try {
      const loaded = await loadProject(dir.dir);
      await assert.rejects(createPlan(loaded), (error: MetaformError) => {
        assert.match(error.message, /service wh: the role cannot read SNOWFLAKE\.ACCOUNT_USAGE\.TAG_REFERENCES/);
        assert.match(error.hint ?? '', /GRANT IMPORTED PRIVILEGES ON DATABASE SNOWFLAKE TO ROLE/);
        return true;
      });
      emulator.run('GRANT IMPORTED PRIVILEGES ON DATABASE snowflake TO ROLE limited');
      const report = await applyPlan(loaded, (await createPlan(loaded)).plan);
      assert.deepEqual(
        report.run.operations.map((operation) => [operation.id, operation.outcome, operation.error ?? '']),
        [
          ['wh.ANALYTICS.SALES.LIMITED_OWNED#description', 'succeeded', ''],
          ['wh.ANALYTICS.SALES.ORDERS#description', 'failed', "SQL access control error:\nInsufficient privileges to operate on table 'ANALYTICS.SALES.ORDERS' (003001)"],
        ],
      );
      assert.equal(node('ANALYTICS', 'SALES', 'LIMITED_OWNED')?.comment, 'may change');
    } finally {
      await dir.remove();
    }
  });

  it('changes a table\'s description, tags and owner as the role that owns it (not ACCOUNTADMIN): the owner change runs last', async () => {
    // "Only the role with the OWNERSHIP privilege on an object can ... alter it": after GRANT
    // OWNERSHIP the old owner may no longer COMMENT on or SET TAG the table
    // (docs.snowflake.com/en/user-guide/security-access-control-overview#object-ownership).
    emulator.run('CREATE ROLE steward');
    emulator.run('GRANT IMPORTED PRIVILEGES ON DATABASE snowflake TO ROLE steward');
    emulator.run('CREATE TABLE analytics.sales.stewarded (id NUMBER, note VARCHAR)');
    emulator.run('GRANT OWNERSHIP ON TABLE analytics.sales.stewarded TO ROLE steward COPY CURRENT GRANTS');
    const dir = await project(
      {
        service: 'wh',
        database: 'analytics',
        schemas: {
          sales: {
            tables: {
              stewarded: { description: 'handed over', owners: ['data_platform'], tags: { TIER: 'gold' }, columns: { note: { description: 'a note', tags: { PII: 'no' } } } },
            },
          },
        },
      },
      { connection: { account: 'emulated', user: 'metaform', password: 'secret', role: 'steward', accessUrl: emulator.url } },
    );
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      const owner = plan.operations.find((operation) => operation.statements.some((statement) => statement.startsWith('GRANT OWNERSHIP')));
      assert.equal(owner?.dependsOn?.length, plan.operations.length - 1, 'the owner change waits for every other operation on the table');
      const report = await applyPlan(loaded, JSON.parse(JSON.stringify(plan)));
      assert.deepEqual(report.run.operations.filter((operation) => operation.outcome !== 'succeeded').map((operation) => [operation.id, operation.error]), []);
      assert.equal(report.run.operations.at(-1)?.id, owner?.id, 'journaled last');
      assert.equal(node('ANALYTICS', 'SALES', 'STEWARDED')?.owner, 'DATA_PLATFORM');
      assert.equal(node('ANALYTICS', 'SALES', 'STEWARDED')?.comment, 'handed over');
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'STEWARDED'), { TIER: 'gold' });
      assert.deepEqual(tags('ANALYTICS', 'SALES', 'STEWARDED', 'NOTE'), { PII: 'no' });
    } finally {
      await dir.remove();
    }
  });

  it('retries a catalog read that times out once, as apply retries a statement', async () => {
    const dir = await project({ service: 'wh', database: 'analytics', schemas: { sales: { tables: { orders: { description: 'read after a retry' } } } } });
    try {
      emulator.failOnce.add(catalogQueries('ANALYTICS', ['SALES']).tables);
      const { plan } = await createPlan(await loadProject(dir.dir));
      assert.equal(emulator.failOnce.size, 0, 'the tables query failed once');
      assert.ok(plan.changes.some((change) => change.after === 'read after a retry'));
    } finally {
      await dir.remove();
    }
  });

  it('names the service, account and user when login fails, never the password', async () => {
    const dir = await project({ service: 'wh', database: 'analytics', description: 'x' }, { connection: { account: 'emulated', user: 'metaform', password: 'not-the-password', accessUrl: emulator.url } });
    try {
      await assert.rejects(createPlan(await loadProject(dir.dir)), (error: Error) => {
        assert.match(error.message, /service wh: cannot connect to Snowflake at account emulated as metaform: Incorrect username or password/);
        assert.doesNotMatch(error.message, /not-the-password/);
        return true;
      });
    } finally {
      await dir.remove();
    }
  });
});

/**
 * A test of its own emulator: `project(metadata, connection)` is a project with one Snowflake
 * service `wh` logged in as METAFORM (extra connection keys merged in), removed afterwards.
 */
async function withOwnEmulator(
  options: Parameters<typeof startSnowflakeEmulator>[0],
  body: (emulator: SnowflakeEmulator, project: (metadata: object, connection?: object) => Promise<TempProject>) => Promise<void>,
): Promise<void> {
  const emulator = await startSnowflakeEmulator(options);
  const projects: TempProject[] = [];
  const project = async (metadata: object, connection: object = {}) => {
    const dir = await tempProject(
      { version: 1, services: { wh: { type: 'snowflake', connection: { account: 'emulated', user: 'metaform', password: 'secret', accessUrl: emulator.url, ...connection } } } },
      { 'metadata/wh.yaml': { service: 'wh', ...metadata } },
    );
    projects.push(dir);
    return dir;
  };
  try {
    await body(emulator, project);
  } finally {
    for (const dir of projects) await dir.remove();
    await emulator.close();
  }
}

describe('Snowflake on a large account: 090030 from INFORMATION_SCHEMA', () => {
  it('reads columns schema by schema when the database-wide query returns too much data, one query per schema more', () =>
    withOwnEmulator({ informationSchemaRowLimit: 4 }, async (emulator, project) => {
      emulator.run('CREATE DATABASE big');
      emulator.run('CREATE SCHEMA big.a');
      emulator.run('CREATE SCHEMA big.b');
      emulator.run('CREATE TABLE big.a.t1 (x NUMBER, y NUMBER, z NUMBER)');
      emulator.run('CREATE TABLE big.b.t2 (p NUMBER, q NUMBER, r NUMBER)');
      assert.throws(() => emulator.run('SELECT TABLE_NAME, COLUMN_NAME FROM big.INFORMATION_SCHEMA.COLUMNS'), /Information schema query returned too much data/);
      const dir = await project({ database: 'big', schemas: { a: { tables: { t1: { columns: { x: 'x' } } } }, b: { tables: { t2: { columns: { q: "It's q" } } } } } });
      const loaded = await loadProject(dir.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 4 + 2 + 1, 'database, schemas, tables, the refused columns query, then one per schema read (A, B), ACCOUNT_USAGE tags');
      assert.deepEqual(plan.changes.map((change) => [change.address, change.after]), [['wh.BIG.A.T1.X', 'x'], ['wh.BIG.B.T2.Q', "It's q"]]);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      assert.equal(emulator.engine.catalog.databases.get('BIG')?.schemas.get('B')?.tables.get('T2')?.columns.get('Q')?.comment, "It's q");
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    }));
});

describe('Snowflake session parameters', () => {
  it('sets QUOTED_IDENTIFIERS_IGNORE_CASE = FALSE for its session, so a quoted mixed-case name stays exact on an account that sets it TRUE', () =>
    withOwnEmulator({}, async (emulator, project) => {
      emulator.run('CREATE DATABASE qi');
      emulator.run('CREATE SCHEMA qi.s');
      emulator.run('CREATE TABLE qi.s."Orders" (id NUMBER)');
      emulator.run('CREATE TABLE qi.s.orders (id NUMBER)');
      emulator.run('ALTER ACCOUNT SET QUOTED_IDENTIFIERS_IGNORE_CASE = TRUE');
      assert.throws(() => emulator.run('CREATE TABLE qi.s."Orders" (id NUMBER)'), /already exists/, 'the account folds quoted names');
      const loaded = await loadProject((await project({ database: 'qi', schemas: { s: { tables: { '"Orders"': { description: 'mixed' }, orders: { description: 'upper' } } } } })).dir);
      const { plan } = await createPlan(loaded);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      const tables = emulator.engine.catalog.databases.get('QI')?.schemas.get('S')?.tables;
      assert.deepEqual([tables?.get('Orders')?.comment, tables?.get('ORDERS')?.comment], ['mixed', 'upper']);
    }));
});

describe('Snowflake warehouse', () => {
  it('names connection.warehouse when the catalog SELECTs find no warehouse, and reads with one', () =>
    withOwnEmulator({ requireWarehouse: true }, async (emulator, project) => {
      emulator.run('CREATE DATABASE wh_db');
      const metadata = { database: 'wh_db', description: 'with a warehouse' };
      await assert.rejects(createPlan(await loadProject((await project(metadata)).dir)), (error: unknown) => {
        assert.ok(error instanceof MetaformError, String(error));
        assert.match(error.message, /service wh: the session has no warehouse/);
        assert.match(error.hint ?? '', /connection\.warehouse/);
        return true;
      });
      const { plan } = await createPlan(await loadProject((await project(metadata, { warehouse: 'METADATA_WH' })).dir));
      assert.deepEqual(plan.changes.map((change) => change.after), ['with a warehouse']);
    }));
});
