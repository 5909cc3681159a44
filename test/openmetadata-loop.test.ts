import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { diffLines } from 'diff';
import { diffService } from '../src/core/diff.js';
import { MetaformError } from '../src/core/errors.js';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { loadProject, type Project } from '../src/core/project.js';
import { OpenMetadataClient } from '../src/openmetadata/client.js';
import { importFromCatalog } from '../src/openmetadata/import.js';
import { pullCatalogEdits } from '../src/openmetadata/pull.js';
import { appliedChanges, pendingCatalogChanges, pushApplied } from '../src/openmetadata/push.js';
import { catalogState } from '../src/openmetadata/state.js';
import { threeWayDrift } from '../src/openmetadata/drift.js';
import { readSource, serviceHandle } from '../src/openmetadata/source.js';
import { buildFqn } from './emulators/openmetadata/fqn.js';
import { manualTag, startOpenMetadataEmulator, type OpenMetadataEmulator } from './emulators/openmetadata/server.js';
import { startPglite, startServerPostgres, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

/** The metadata folder exists before import writes into it (a missing folder is an error). */
const EMPTY_METADATA = { 'metadata/.keep.yaml': '' };
import { HOSTILE_DESCRIPTIONS } from './support/strings.js';

const JANE = `mf_jane_${process.pid}`;
const PLATFORM = `mf_platform_${process.pid}`;
const HOSTILE = { schema: 'Sales "Mart".v2', table: "Order's Items", column: 'Unit.Price "EUR"', colon: 'a::b' };

/** What OpenMetadata's Python connectors name a source object (replace_separators), written independently of src/. */
function ingestedName(name: string): string {
  return name.split('::').join('__reserved__colon__').split('>').join('__reserved__arrow__').split('"').join('__reserved__quote__');
}

async function createSource(db: TestPostgres): Promise<void> {
  const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
  await db.query(`
    DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${JANE}') THEN CREATE ROLE ${JANE}; END IF;
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${PLATFORM}') THEN CREATE ROLE ${PLATFORM}; END IF;
    END $$;
    CREATE SCHEMA sales;
    CREATE TABLE sales.orders (id int PRIMARY KEY, email text, amount numeric);
    CREATE TABLE sales.customers (id int, name text);
    CREATE SCHEMA archive;
    CREATE TABLE archive.old_orders (id int);
    CREATE SCHEMA ${q(HOSTILE.schema)};
    CREATE TABLE ${q(HOSTILE.schema)}.${q(HOSTILE.table)} (${q(HOSTILE.column)} numeric, ${q(HOSTILE.colon)} int);
  `);
}

/** The catalog as an ingestion of that source left it, plus people's descriptions and owners. */
function seedCatalog(emulator: OpenMetadataEmulator, database: string): void {
  emulator.addUser('jane', 'jane@corp.com', false, 'jane-token');
  emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
  emulator.tokens.set('ingestion-token', 'ingestion-bot');
  emulator.addTeam('platform');
  emulator.addTag('PII', 'Sensitive');
  emulator.addTag('PII', 'None');
  emulator.addEntity('database', 'warehouse', database, { description: 'The analytics warehouse' });
  const db = buildFqn('warehouse', database);
  emulator.addEntity('databaseSchema', db, 'sales', { description: 'Sales data mart', owners: ['platform'] });
  emulator.addEntity('table', buildFqn('warehouse', database, 'sales'), 'orders', {
    description: 'Orders, from the catalog',
    owners: ['jane'],
    columns: [{ name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer e-mail', tags: [manualTag('PII.Sensitive')] }, { name: 'amount' }],
  });
  emulator.addEntity('table', buildFqn('warehouse', database, 'sales'), 'customers', { columns: [{ name: 'id' }, { name: 'name' }] });
  emulator.addEntity('databaseSchema', db, 'archive');
  emulator.addEntity('table', buildFqn('warehouse', database, 'archive'), 'old_orders', { columns: [{ name: 'id' }] });
  const hostileSchema = ingestedName(HOSTILE.schema);
  emulator.addEntity('databaseSchema', db, hostileSchema, { description: HOSTILE_DESCRIPTIONS[0] as string });
  emulator.addEntity('table', buildFqn('warehouse', database, hostileSchema), ingestedName(HOSTILE.table), {
    description: HOSTILE_DESCRIPTIONS[7] as string,
    columns: [{ name: ingestedName(HOSTILE.column), description: HOSTILE_DESCRIPTIONS[6] as string }, { name: ingestedName(HOSTILE.colon), description: HOSTILE_DESCRIPTIONS[1] as string }],
  });
}

async function personEdit(emulator: OpenMetadataEmulator, fqn: string, operations: unknown[], token = 'jane-token', changeSource = 'Manual'): Promise<void> {
  const entity = emulator.entity(fqn);
  assert.ok(entity, `no entity ${fqn}`);
  const collection = entity.type === 'table' ? 'tables' : entity.type === 'databaseSchema' ? 'databaseSchemas' : 'databases';
  const response = await fetch(`${emulator.url}/api/v1/${collection}/${entity.id}?changeSource=${changeSource}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json-patch+json' },
    body: JSON.stringify(operations),
  });
  assert.equal(response.status, 200, await response.text());
}

function config(db: TestPostgres, emulator: OpenMetadataEmulator): object {
  return {
    version: 1,
    services: {
      warehouse: {
        type: 'postgres',
        connection: { ...db.connection, password: '${PG_TEST_PASSWORD:-}' },
        owners: { map: { 'jane@corp.com': JANE, platform: PLATFORM } },
      },
    },
    openmetadata: { url: emulator.url, token: '${OM_TEST_TOKEN}' },
  };
}

const ENV = { ...process.env, OM_TEST_TOKEN: 'bot-token' };

function loopSuite(engine: string, start: () => Promise<TestPostgres | { skip: string }>): void {
  describe(`OpenMetadata loop on PostgreSQL (${engine}) with the emulator`, () => {
    let db: TestPostgres;
    let skip: string | undefined;
    let emulator: OpenMetadataEmulator;
    let project: TempProject;
    let client: OpenMetadataClient;
    let yamlPath: string;
    const load = () => loadProject(project.dir, { env: ENV });
    const catalogDrift = async (loaded: Project) => {
      const state = await catalogState(loaded, 'warehouse', { client });
      return diffService({ service: loaded.config.services.get('warehouse')!.config, desired: loaded.desired.get('warehouse') ?? new Map(), snapshot: state.snapshot }).changes;
    };
    const threeWay = async (loaded: Project) => {
      const handle = serviceHandle(loaded, 'warehouse');
      return threeWayDrift({ service: handle.service, desired: handle.desired, source: await readSource(handle), catalog: await catalogState(loaded, 'warehouse', { client }) });
    };
    const tableFqn = (schema: string, table: string) => buildFqn('warehouse', db.connection.database, schema, table);

    before(async () => {
      const started = await start();
      if ('skip' in started) {
        skip = started.skip;
        return;
      }
      db = started;
      await createSource(db);
      emulator = await startOpenMetadataEmulator({ version: '1.9.0', etag: true });
      seedCatalog(emulator, db.connection.database);
      project = await tempProject(config(db, emulator), EMPTY_METADATA);
      client = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' }, { retryDelayMs: 1 });
    });
    after(async () => {
      await project?.remove();
      await emulator?.close();
      await db?.close();
    });

    it('imports YAML from the catalog that plans to no changes against it', async (t) => {
      if (skip) return t.skip(skip);
      const skipped: string[] = [];
      const files = await importFromCatalog(await load(), 'warehouse', { client, onSkipped: (message) => skipped.push(message) });
      assert.equal(files.length, 1);
      const [file] = files;
      yamlPath = file!.path;
      await project.write(yamlPath, `${file!.content.replace('description: Orders, from the catalog', 'description: Orders, from the catalog   # spaced comment')}# kept: a comment at the end\n`);
      assert.match(file!.content, /owners:\n\s+- jane@corp.com/, 'owners written as the owners.map key (the e-mail)');
      assert.ok(file!.content.includes(HOSTILE.schema) && file!.content.includes(HOSTILE.colon), 'names are the source names, __reserved__ markers reverted');
      assert.ok(skipped.some((message) => message.includes('email') && message.includes('tags')), `tags skipped on PostgreSQL: ${skipped.join('; ')}`);
      const loaded = await load();
      assert.deepEqual(await catalogDrift(loaded), []);
    });

    it('applies the imported YAML to the source; the catalog already agrees', async (t) => {
      if (skip) return t.skip(skip);
      const loaded = await load();
      const { plan } = await createPlan(loaded);
      assert.ok(plan.changes.length >= 8, `descriptions and owners from the catalog: ${plan.changes.map((change) => change.id).join(', ')}`);
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.filter((op) => op.outcome !== 'succeeded')));
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
      assert.deepEqual(await pendingCatalogChanges(loaded, 'warehouse', { client }), []);
      const hostile = await db.query(`SELECT obj_description(c.oid, 'pg_class') AS d FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`, [HOSTILE.schema, HOSTILE.table]);
      assert.equal(hostile.rows[0]?.d, HOSTILE_DESCRIPTIONS[7]);
    });

    it("pulls a person's catalog edits into the YAML, changing only those lines, and not an ingestion's", async (t) => {
      if (skip) return t.skip(skip);
      await personEdit(emulator, tableFqn('sales', 'orders'), [{ op: 'replace', path: '/description', value: 'One row per order, edited in the catalog' }]);
      await personEdit(emulator, tableFqn(ingestedName(HOSTILE.schema), ingestedName(HOSTILE.table)), [{ op: 'replace', path: '/columns/0/description', value: HOSTILE_DESCRIPTIONS[4] }]);
      await personEdit(emulator, tableFqn('sales', 'customers'), [{ op: 'add', path: '/description', value: 'written by a connector' }], 'ingestion-token', 'Ingested');
      // The connector's description of customers is no drift: the YAML does not manage it.
      const drift = await threeWay(await load());
      assert.deepEqual(
        drift.map((row) => [row.id, row.differs, row.catalog, row.catalogLastChange?.changedBy]).filter((row) => String(row[0]).includes('.sales.')),
        [
          [`warehouse.${db.connection.database}.sales.orders#description`, ['catalog'], 'One row per order, edited in the catalog', 'jane'],
        ],
      );
      const before = await readFile(join(project.dir, yamlPath), 'utf8');
      const result = await pullCatalogEdits(await load(), { client });
      assert.deepEqual(result.conflicts, []);
      assert.deepEqual(
        result.edits.map((edit) => [edit.address, edit.property, edit.after, edit.changedBy]),
        [
          [`warehouse.${db.connection.database}.sales.orders`, 'description', 'One row per order, edited in the catalog', 'jane'],
          [`warehouse.${db.connection.database}."${HOSTILE.schema.replaceAll('"', '""')}".${HOSTILE.table}."${HOSTILE.column.replaceAll('"', '""')}"`, 'description', HOSTILE_DESCRIPTIONS[4], 'jane'],
        ],
      );
      assert.deepEqual(result.files, [yamlPath]);
      const afterText = await readFile(join(project.dir, yamlPath), 'utf8');
      const removed = diffLines(before, afterText).filter((part) => part.removed);
      assert.equal(removed.reduce((sum, part) => sum + (part.count ?? 0), 0), 2, `only the two lines concerned change:\n${removed.map((part) => part.value).join('')}`);
      assert.ok(afterText.includes('# kept: a comment at the end') && afterText.startsWith('# yaml-language-server'), 'comments kept');
      assert.ok(afterText.includes('description: One row per order, edited in the catalog   # spaced comment'), 'the spacing before a comment is kept');

      const loaded = await load();
      const { plan } = await createPlan(loaded);
      assert.equal(plan.changes.length, 2);
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0);
      assert.deepEqual(await pendingCatalogChanges(loaded, 'warehouse', { client }), []);
      assert.deepEqual(await catalogDrift(loaded), []);
    });

    it('pulling again writes nothing', async (t) => {
      if (skip) return t.skip(skip);
      const result = await pullCatalogEdits(await load(), { client });
      assert.deepEqual(result.edits, []);
      assert.deepEqual(result.files, []);
    });

    it('pulls an edit of a table in a schema the YAML does not name yet', async (t) => {
      if (skip) return t.skip(skip);
      assert.ok(!(await readFile(join(project.dir, yamlPath), 'utf8')).includes('archive'));
      await personEdit(emulator, tableFqn('archive', 'old_orders'), [{ op: 'add', path: '/description', value: 'Orders before 2020' }]);
      const result = await pullCatalogEdits(await load(), { client });
      assert.deepEqual(result.unsupported, []);
      assert.deepEqual(result.edits.map((edit) => [edit.address, edit.after]), [[`warehouse.${db.connection.database}.archive.old_orders`, 'Orders before 2020']]);
      const loaded = await load();
      const { plan } = await createPlan(loaded);
      assert.deepEqual(plan.changes.map((change) => change.address), [`warehouse.${db.connection.database}.archive.old_orders`]);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
    });

    it('pushes a reviewed YAML change to the catalog after apply; drift is clean on all three sides', async (t) => {
      if (skip) return t.skip(skip);
      const path = join(project.dir, yamlPath);
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replace('One row per order, edited in the catalog', 'Reviewed in a pull request').replace(/owners:\n(\s+)- jane@corp.com/, 'owners:\n$1- platform'));
      const loaded = await load();
      const { plan } = await createPlan(loaded);
      assert.deepEqual(plan.changes.map((change) => change.property).sort(), ['description', 'owner']);
      const report = await applyPlan(loaded, plan);
      const results = await pushApplied(loaded, appliedChanges(plan.changes, report.run.operations), { client });
      assert.deepEqual(results.map((result) => [result.entityFqn, result.outcome, result.attempts]), [[tableFqn('sales', 'orders'), 'succeeded', 1]]);
      const orders = emulator.entity(tableFqn('sales', 'orders'));
      assert.equal(orders?.description, 'Reviewed in a pull request');
      assert.deepEqual(orders?.owners.map((owner) => [owner.type, owner.name]), [['team', 'platform']]);
      assert.equal(orders?.changeSummary['description']?.changedBy, 'metaform-bot');
      const patch = emulator.requests.filter((request) => request.method === 'PATCH').at(-1);
      assert.equal(patch?.ifMatch, `W/"${Math.round(((orders?.version ?? 0) - 0.1) * 10) / 10}"`, 'If-Match carries the version read');
      assert.deepEqual((await pullCatalogEdits(await load(), { client })).edits, [], "metaform's own writes are not pulled");
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
      assert.deepEqual(await catalogDrift(loaded), []);
      assert.deepEqual(await threeWay(loaded), [], 'YAML, source and catalog agree');
    });

    it('pushes column changes by name, with a test of the column name guarding the index', async (t) => {
      if (skip) return t.skip(skip);
      const path = join(project.dir, yamlPath);
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replace('Buyer e-mail', 'Buyer e-mail, lower case'));
      const loaded = await load();
      const { plan } = await createPlan(loaded);
      const report = await applyPlan(loaded, plan);
      const results = await pushApplied(loaded, appliedChanges(plan.changes, report.run.operations), { client });
      assert.equal(results[0]?.outcome, 'succeeded');
      const body = JSON.parse(emulator.requests.filter((request) => request.method === 'PATCH').at(-1)?.body ?? '[]') as { op: string; path: string; value?: unknown }[];
      assert.deepEqual(body[0], { op: 'test', path: '/columns/1/name', value: 'email' });
      assert.equal(emulator.entity(tableFqn('sales', 'orders'))?.columns?.[1]?.description, 'Buyer e-mail, lower case');
      assert.deepEqual(emulator.entity(tableFqn('sales', 'orders'))?.columns?.[1]?.tags.map((tag) => tag.tagFQN), ['PII.Sensitive'], 'labels metaform does not manage are kept');
    });

    it('reports a catalog edit that conflicts with an unapplied YAML change, and writes nothing', async (t) => {
      if (skip) return t.skip(skip);
      const path = join(project.dir, yamlPath);
      const text = await readFile(path, 'utf8');
      const pending = text.replace('Reviewed in a pull request', 'Pending in a branch');
      await writeFile(path, pending);
      await personEdit(emulator, tableFqn('sales', 'orders'), [{ op: 'replace', path: '/description', value: 'Edited meanwhile in the catalog' }]);
      const result = await pullCatalogEdits(await load(), { client });
      assert.deepEqual(result.edits, []);
      assert.equal(result.conflicts.length, 1);
      assert.equal(result.conflicts[0]?.catalog, 'Edited meanwhile in the catalog');
      assert.equal(await readFile(path, 'utf8'), pending);
      // With the branch dropped, the person's edit is pulled like any other.
      await writeFile(path, text);
      const resolved = await pullCatalogEdits(await load(), { client });
      assert.deepEqual(resolved.edits.map((edit) => edit.after), ['Edited meanwhile in the catalog']);
      const loaded = await load();
      assert.equal((await applyPlan(loaded, (await createPlan(loaded)).plan)).failed, 0);
    });

    it('reports a catalog edit the source cannot hold (PostgreSQL has no tags)', async (t) => {
      if (skip) return t.skip(skip);
      await personEdit(emulator, tableFqn('sales', 'customers'), [{ op: 'add', path: '/tags/-', value: manualTag('PII.None') }]);
      const result = await pullCatalogEdits(await load(), { client });
      const tag = result.unsupported.find((issue) => issue.property === 'tag');
      assert.equal(tag?.key, 'PII');
      assert.match(tag?.reason ?? '', /cannot hold/);
      assert.ok(!result.edits.some((edit) => edit.property === 'tag'));
    });

    it('reports a failed catalog write beside the others, and the next run retries it', async (t) => {
      if (skip) return t.skip(skip);
      const path = join(project.dir, yamlPath);
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replace('Edited meanwhile in the catalog', 'Second review').replace(HOSTILE_DESCRIPTIONS[4] as string, 'A plain description now'));
      const loaded = await load();
      const { plan } = await createPlan(loaded);
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0);
      const orders = emulator.entity(tableFqn('sales', 'orders'));
      emulator.failNext('PATCH', `/tables/${orders?.id}`, 500, 4);
      const results = await pushApplied(loaded, appliedChanges(plan.changes, report.run.operations), { client });
      const failed = results.filter((result) => result.outcome === "failed");
      assert.equal(failed.length, 1);
      assert.equal(failed[0]?.entityFqn, tableFqn('sales', 'orders'));
      assert.match(failed[0]?.error ?? '', new RegExp(`OpenMetadata at ${emulator.url}.*table ${tableFqn('sales', 'orders').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*HTTP 500`));
      assert.ok(!(failed[0]?.error ?? '').includes('bot-token'), 'the token is never in an error');
      assert.equal(results.filter((result) => result.outcome === 'succeeded').length, 1, 'the other write went through');

      const pending = await pendingCatalogChanges(loaded, 'warehouse', { client });
      assert.deepEqual(pending.map((change) => change.id), [`warehouse.${db.connection.database}.sales.orders#description`]);
      const retried = await pushApplied(loaded, pending, { client });
      assert.equal(retried[0]?.outcome, 'succeeded');
      assert.deepEqual(await catalogDrift(loaded), []);
    });

    it('re-reads and retries a write answered 412', async (t) => {
      if (skip) return t.skip(skip);
      const path = join(project.dir, yamlPath);
      const text = await readFile(path, 'utf8');
      await writeFile(path, text.replace('Second review', 'Third review'));
      const loaded = await load();
      const { plan } = await createPlan(loaded);
      const report = await applyPlan(loaded, plan);
      emulator.failNext('PATCH', '/tables/', 412, 1);
      const results = await pushApplied(loaded, appliedChanges(plan.changes, report.run.operations), { client });
      assert.deepEqual(results.map((result) => [result.outcome, result.attempts]), [['succeeded', 2]]);
      assert.equal(emulator.entity(tableFqn('sales', 'orders'))?.description, 'Third review');
    });
  });
}

loopSuite('PGlite', startPglite);
loopSuite('the server', startServerPostgres);

describe('OpenMetadata before 1.5 (one owner, no ETag)', () => {
  let db: TestPostgres;
  let emulator: OpenMetadataEmulator;
  let project: TempProject;
  before(async () => {
    db = await startPglite();
    await createSource(db);
    emulator = await startOpenMetadataEmulator({ version: '1.4.2', etag: false });
    seedCatalog(emulator, db.connection.database);
    project = await tempProject(config(db, emulator), EMPTY_METADATA);
  });
  after(async () => {
    await project?.remove();
    await emulator?.close();
    await db?.close();
  });

  it('imports owners from `owner` and pushes an owner as `owner`', async () => {
    const client = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' }, { retryDelayMs: 1 });
    assert.equal(client.ownerField, 'owner');
    const [file] = await importFromCatalog(await loadProject(project.dir, { env: ENV }), 'warehouse', { client });
    await project.write(file!.path, file!.content.replace(/owners:\n(\s+)- jane@corp.com/, 'owners:\n$1- platform'));
    const loaded = await loadProject(project.dir, { env: ENV });
    const { plan } = await createPlan(loaded);
    const report = await applyPlan(loaded, plan);
    assert.equal(report.failed, 0);
    const results = await pushApplied(loaded, appliedChanges(plan.changes, report.run.operations), { client });
    assert.ok(results.every((result) => result.outcome === 'succeeded'), JSON.stringify(results));
    const orders = emulator.entity(buildFqn('warehouse', db.connection.database, 'sales', 'orders'));
    assert.deepEqual(orders?.owners.map((owner) => owner.name), ['platform']);
    const patch = emulator.requests.find((request) => request.method === 'PATCH' && request.body?.includes('"/owner"'));
    assert.ok(patch, 'the single-owner path was used');
    assert.equal(patch.ifMatch, undefined, 'no If-Match without ETags');
  });
});

describe('OpenMetadata errors', () => {
  it('a refused token and an unreachable server name the server, never the token', async () => {
    const emulator = await startOpenMetadataEmulator();
    const url = emulator.url;
    try {
      await assert.rejects(OpenMetadataClient.connect({ url, token: 'secret-token-value' }, { retryDelayMs: 1 }), (error: MetaformError) => {
        assert.match(error.message, new RegExp(`OpenMetadata at ${url}: server version: HTTP 401`));
        assert.match(error.hint ?? '', /openmetadata.token/);
        assert.ok(!String(error).includes('secret-token-value'));
        return true;
      });
    } finally {
      await emulator.close();
    }
    await assert.rejects(OpenMetadataClient.connect({ url, token: 'secret-token-value' }, { retryDelayMs: 1, retries: 1 }), (error: MetaformError) => {
      assert.match(error.message, new RegExp(`cannot reach OpenMetadata at ${url}`));
      assert.ok(!String(error).includes('secret-token-value'));
      return true;
    });
  });

  it('never shows credentials written into the URL, and refuses a URL that is not one', async () => {
    const emulator = await startOpenMetadataEmulator();
    try {
      const url = emulator.url.replace('http://', 'http://admin:hunter2@');
      await assert.rejects(OpenMetadataClient.connect({ url, token: 'nope' }, { retryDelayMs: 1 }), (error: MetaformError) => {
        assert.match(error.message, new RegExp(`openmetadata.url \\(${emulator.url}/\\) carries credentials`));
        assert.match(error.hint ?? '', /openmetadata.token/);
        assert.ok(!String(error).includes('hunter2'));
        return true;
      });
    } finally {
      await emulator.close();
    }
    await assert.rejects(OpenMetadataClient.connect({ url: 'metadata.corp.com' }), /openmetadata.url "metadata.corp.com" is not a URL/);
  });

  it('a service the catalog lacks is named, with the fix', async () => {
    const emulator = await startOpenMetadataEmulator();
    try {
      emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
      const project = await tempProject({ version: 1, services: { 'ware.house': { type: 'postgres', connection: { host: '127.0.0.1' } } }, openmetadata: { url: emulator.url, token: 'bot-token' } }, EMPTY_METADATA);
      try {
        await assert.rejects(importFromCatalog(await loadProject(project.dir), 'ware.house', { retryDelayMs: 1 }), (error: MetaformError) => {
          assert.match(error.message, new RegExp(`OpenMetadata at ${emulator.url} has no database service "ware.house"`));
          assert.match(error.hint ?? '', /OpenMetadata database service name/);
          return true;
        });
        assert.ok(emulator.requests.some((request) => request.path === '/api/v1/services/databaseServices/name/%22ware.house%22'), 'the dotted service name is quoted in its FQN and encoded');
      } finally {
        await project.remove();
      }
    } finally {
      await emulator.close();
    }
  });

  it('retries throttling and server errors with backoff', async () => {
    const emulator = await startOpenMetadataEmulator();
    try {
      emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
      emulator.failNext('GET', 'system/version', 429, 2);
      const client = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' }, { retryDelayMs: 1 });
      assert.equal(client.requests, 3);
      assert.equal(client.server.version, '1.13.0');
    } finally {
      await emulator.close();
    }
  });
});
