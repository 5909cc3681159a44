/**
 * BigQuery end to end: the unmodified @google-cloud/bigquery client against the REST emulator,
 * through metaform's pipeline (plan, apply, import). Written as one target (`bigQueryTarget`)
 * and behaviours over it, so the cases can move into the shared contract suite as one entry.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { applyPlan, createPlan } from '../../../src/core/pipeline.js';
import { importService } from '../../../src/core/import.js';
import { loadProject } from '../../../src/core/project.js';
import { bigQueryConnector } from '../../../src/connectors/bigquery/index.js';
import type { EmulatedDataset } from '../../emulators/bigquery/engine.js';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../emulators/bigquery/server.js';
import { tempProject } from '../../support/project.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS } from '../../support/strings.js';

const PROJECT = 'metaform-test';
/** Column descriptions are at most 1,024 characters (REST TableFieldSchema). */
const COLUMN_TEXTS = HOSTILE_DESCRIPTIONS.filter((text) => text.length <= 1024);
const POLICY_TAGS = { names: ['projects/metaform-test/locations/us/taxonomies/1/policyTags/2'] };

/** The system under test, as the contract suite needs it: start, seed, reach, inspect, stop. */
export const bigQueryTarget = {
  type: 'bigquery',
  start: () => startBigQueryEmulator({ projectId: PROJECT, pageRows: 7 }),
  seed(emulator: BigQueryEmulator): EmulatedDataset {
    const engine = emulator.engine;
    const sales = engine.addDataset(PROJECT, 'sales', { labels: { stale: 'x' } });
    engine.addTable(sales, 'orders', [
      { name: 'id', type: 'INTEGER', mode: 'REQUIRED', description: 'old' },
      { name: 'email', type: 'STRING', mode: 'NULLABLE', policyTags: POLICY_TAGS, maxLength: '320', collation: 'und:ci' },
      { name: 'address', type: 'RECORD', mode: 'REPEATED', fields: [{ name: 'city', type: 'STRING' }, { name: 'zip', type: 'STRING', defaultValueExpression: "'0000'" }] },
    ]);
    engine.addTable(sales, 'v_orders', [{ name: 'id', type: 'INTEGER' }], { type: 'VIEW' });
    engine.addTable(sales, 'mv_daily', [{ name: 'day', type: 'DATE' }], { type: 'MATERIALIZED_VIEW' });
    engine.addTable(sales, 'ext_files', [{ name: 'line', type: 'STRING' }], { type: 'EXTERNAL' });
    engine.addTable(sales, 'wide', Array.from({ length: 20 }, (_, i) => ({ name: `c${i}`, type: 'STRING' })));
    for (let i = 0; i < 12; i++) engine.addTable(engine.addDataset(PROJECT, `filler_${i}`), 't', [{ name: 'a', type: 'STRING' }]);
    // Another region: the US read must not see it.
    engine.addDataset(PROJECT, 'eu_only', { location: 'EU', description: 'elsewhere' });
    return sales;
  },
};

describe('BigQuery end to end: @google-cloud/bigquery against the REST emulator', () => {
  let emulator: BigQueryEmulator;
  let sales: EmulatedDataset;
  before(async () => {
    emulator = await bigQueryTarget.start();
    sales = bigQueryTarget.seed(emulator);
  });
  after(() => emulator.close());

  const project = (metadata: object, extra: object = {}, connection: object = emulator.connection) =>
    tempProject({ version: 1, services: { bq: { type: 'bigquery', connection, ...extra } } }, { 'metadata/bq.yaml': metadata });
  const table = (name: string) => emulator.engine.table(PROJECT, 'sales', name);
  const random = generatedStrings(20, 11);

  const desired = {
    service: 'bq',
    database: PROJECT,
    schemas: {
      sales: {
        description: HOSTILE_DESCRIPTIONS.join('|'),
        tags: { team: 'data-platform', 'équipe': 'données', empty: '' },
        tables: {
          orders: {
            description: HOSTILE_DESCRIPTIONS[0],
            tags: { tier: 'gold' },
            columns: { id: COLUMN_TEXTS[1], email: COLUMN_TEXTS[3], 'address.city': COLUMN_TEXTS[6], 'address.zip': COLUMN_TEXTS[7] },
          },
          v_orders: { description: COLUMN_TEXTS[2], tags: { kind: 'view' }, columns: { id: COLUMN_TEXTS[4] } },
          mv_daily: { description: COLUMN_TEXTS[5], tags: { refreshed: 'daily' } },
          ext_files: { description: COLUMN_TEXTS[8], columns: { line: COLUMN_TEXTS[9] } },
          wide: { columns: Object.fromEntries(random.map((text, i) => [`c${i}`, text])) },
        },
      },
    },
  };

  it('plans five bulk queries, applies one update per object, reads back byte-identical (nested fields too), keeps every other field attribute, and converges', async () => {
    const dir = await project(desired);
    try {
      const loaded = await loadProject(dir.dir);
      const requestsBefore = emulator.requests.length;
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 5, 'five INFORMATION_SCHEMA queries for the project');
      const planRequests = emulator.requests.slice(requestsBefore);
      assert.ok(planRequests.every((line) => /\/queries/.test(line)), planRequests.join('\n'));
      assert.equal(plan.summary.skipped, 0, JSON.stringify(plan.changes.filter((c) => c.skipped)));
      assert.ok(plan.changes.some((c) => c.key === 'stale' && c.action === 'remove'), 'prune removes a label the YAML does not list');
      // One operation per dataset/table options and one per table's columns.
      const ids = plan.operations.map((operation) => operation.id).sort();
      assert.deepEqual(ids, [
        `bq.${PROJECT}.sales#options`,
        `bq.${PROJECT}.sales.ext_files#columns`,
        `bq.${PROJECT}.sales.ext_files#options`,
        `bq.${PROJECT}.sales.mv_daily#options`,
        `bq.${PROJECT}.sales.orders#columns`,
        `bq.${PROJECT}.sales.orders#options`,
        `bq.${PROJECT}.sales.v_orders#columns`,
        `bq.${PROJECT}.sales.v_orders#options`,
        `bq.${PROJECT}.sales.wide#columns`,
      ]);
      const updates = () => new Map([...emulator.engine.tableUpdates].map(([id, times]) => [id, times.length]));
      const before = updates();
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error).filter(Boolean)));
      // BigQuery allows 5 table metadata updates per 10 s per table: each table got at most two.
      const during = [...updates()].map(([id, count]) => [id, count - (before.get(id) ?? 0)] as const).filter(([, count]) => count > 0);
      assert.deepEqual(Object.fromEntries(during), {
        [`${PROJECT}:sales.orders`]: 2,
        [`${PROJECT}:sales.v_orders`]: 2,
        [`${PROJECT}:sales.mv_daily`]: 1,
        [`${PROJECT}:sales.ext_files`]: 2,
        [`${PROJECT}:sales.wide`]: 1,
      });

      assert.equal(sales.resource.description, HOSTILE_DESCRIPTIONS.join('|'));
      assert.deepEqual(sales.resource.labels, { empty: '', team: 'data-platform', 'équipe': 'données' });
      const orders = table('orders');
      assert.equal(orders.description, HOSTILE_DESCRIPTIONS[0]);
      assert.deepEqual(orders.labels, { tier: 'gold' });
      const [id, email, address] = orders.schema.fields;
      assert.equal(id?.description, COLUMN_TEXTS[1]);
      assert.equal(email?.description, COLUMN_TEXTS[3]);
      assert.deepEqual(address?.fields?.map((field) => field.description), [COLUMN_TEXTS[6], COLUMN_TEXTS[7]]);
      // The nested patch sent every other attribute back as read.
      assert.deepEqual([id?.mode, email?.policyTags, email?.maxLength, email?.collation, address?.mode, address?.fields?.[1]?.defaultValueExpression], [
        'REQUIRED',
        POLICY_TAGS,
        '320',
        'und:ci',
        'REPEATED',
        "'0000'",
      ]);
      assert.deepEqual([table('v_orders').description, table('v_orders').schema.fields[0]?.description, table('v_orders').labels], [COLUMN_TEXTS[2], COLUMN_TEXTS[4], { kind: 'view' }]);
      assert.deepEqual([table('mv_daily').description, table('mv_daily').labels], [COLUMN_TEXTS[5], { refreshed: 'daily' }]);
      assert.deepEqual([table('ext_files').description, table('ext_files').schema.fields[0]?.description], [COLUMN_TEXTS[8], COLUMN_TEXTS[9]]);
      random.forEach((text, i) => assert.equal(table('wide').schema.fields[i]?.description, text));

      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('shows the statements that run: DDL with backslash-escaped literals, every label kept, and the nested-field patch as JSON', async () => {
    const dir = await project({ service: 'bq', database: PROJECT, schemas: { sales: { tables: { orders: { tags: { added: "it-s" }, columns: { id: "it's \\ new", 'address.city': 'x' } } } } } }, { tags: { prune: false } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.deepEqual(
        plan.operations.map((operation) => operation.statements),
        [
          ["ALTER TABLE `metaform-test`.`sales`.`orders` SET OPTIONS (labels = [('added', 'it-s'), ('tier', 'gold')])"],
          [`tables.patch {"projectId":"metaform-test","datasetId":"sales","tableId":"orders","fields":{"id":"it's \\\\ new","address.city":"x"}}`],
        ],
      );
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error)));
      assert.deepEqual(table('orders').labels, { added: 'it-s', tier: 'gold' });
      assert.equal(table('orders').schema.fields[0]?.description, "it's \\ new");
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });

  it('refuses labels and owners BigQuery would not store as written, at validation, before connecting', async () => {
    const tooMany = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`l${i}`, '']));
    const dir = await project(
      {
        service: 'bq',
        database: PROJECT,
        schemas: {
          sales: { tags: { Env: 'prod', env: 'prod', 'cost center': 'High Value', '9lives': 'x'.repeat(64) }, tables: { orders: { owners: ['jane@corp.com'], tags: tooMany, columns: { id: { tags: { pii: '' } } } } } },
        },
      },
      {},
      { projectId: PROJECT, apiEndpoint: 'http://203.0.113.1:9', accessToken: 'never-sent' },
    );
    try {
      await assert.rejects(loadProject(dir.dir), (error: Error) => {
        assert.match(error.message, /label key "Env" is not a valid BigQuery label key/);
        assert.match(error.message, /write it as env/);
        assert.match(error.message, /ambiguous tag env on bq\.metaform-test\.sales: the keys Env and env are one BigQuery tag/);
        assert.match(error.message, /label key "cost center".*\n.*write it as cost_center/);
        assert.match(error.message, /value "High Value" of label cost center .*\n.*write it as high_value/);
        assert.match(error.message, /label key "9lives".*\n.*write it as k9lives/);
        assert.match(error.message, /tag 9lives on bq\.metaform-test\.sales is 64 characters long; BigQuery allows at most 63/);
        assert.match(error.message, /bq\.metaform-test\.sales\.orders has 65 tags; BigQuery allows at most 64/);
        assert.match(error.message, /does not support owner on a table \(bq\.metaform-test\.sales\.orders\): BigQuery has no object owner/);
        assert.match(error.message, /does not support tags on a column .*policy tags/);
        return true;
      });
    } finally {
      await dir.remove();
    }
  });

  it('refuses a stale plan: a description changed, or a label added by someone else since the plan', async () => {
    const dir = await project({ service: 'bq', database: PROJECT, schemas: { sales: { tables: { wide: { description: 'fresh', tags: { mine: 'a' } } } } } }, { tags: { prune: false } });
    try {
      const loaded = await loadProject(dir.dir);
      const first = (await createPlan(loaded)).plan;
      emulator.run("ALTER TABLE `metaform-test.sales.wide` SET OPTIONS (description = 'theirs')");
      await assert.rejects(applyPlan(loaded, first), /the plan is stale: 1 object changed since it was made/);
      const second = (await createPlan(loaded)).plan;
      // DDL labels replace the set: a label added meanwhile would be lost, so the plan is refused.
      emulator.run("ALTER TABLE `metaform-test.sales.wide` SET OPTIONS (labels = [('theirs', 'kept')])");
      await assert.rejects(applyPlan(loaded, second), /cannot be applied as reviewed[\s\S]*statements differ/);
      assert.equal((await applyPlan(loaded, (await createPlan(loaded)).plan)).failed, 0);
      assert.deepEqual(table('wide').labels, { mine: 'a', theirs: 'kept' });
      assert.equal(table('wide').description, 'fresh');
    } finally {
      await dir.remove();
    }
  });

  it('checks a saved plan against tables.get, not a lagging INFORMATION_SCHEMA: a change it does not show yet still makes the plan stale', async () => {
    const dir = await project({ service: 'bq', database: PROJECT, schemas: { filler_3: { description: 'ours', tables: { t: { description: 'ours too' } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      emulator.engine.lagInformationSchema();
      emulator.run("ALTER TABLE `metaform-test.filler_3.t` SET OPTIONS (description = 'theirs, not yet in INFORMATION_SCHEMA')");
      await assert.rejects(applyPlan(loaded, plan), /the plan is stale: 1 object changed since it was made:\n.*filler_3\.t#description: plan expected null, found "theirs, not yet in INFORMATION_SCHEMA"/);
      assert.equal(emulator.engine.table(PROJECT, 'filler_3', 't').description, 'theirs, not yet in INFORMATION_SCHEMA');
    } finally {
      emulator.engine.catchUp();
      await dir.remove();
    }
  });

  it('a table changed between tables.get and tables.patch answers 412: nothing is written, the operation says the plan is stale', async () => {
    const dir = await project({ service: 'bq', database: PROJECT, schemas: { sales: { tables: { orders: { columns: { 'address.zip': 'raced' } } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      emulator.hooks.onRequest = (line) => {
        if (line.startsWith('PATCH') && line.includes('/tables/orders')) {
          emulator.hooks.onRequest = undefined;
          emulator.run("ALTER TABLE `metaform-test.sales.orders` SET OPTIONS (description = 'concurrent')");
        }
      };
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 1);
      assert.match(report.run.operations[0]?.error ?? '', /changed since it was read \(HTTP 412\), nothing was written/);
      assert.notEqual(table('orders').schema.fields[2]?.fields?.[1]?.description, 'raced');
    } finally {
      emulator.hooks.onRequest = undefined;
      await dir.remove();
    }
  });

  it('runs a table’s options and its nested-field patch one after the other, never racing its own etag', async () => {
    const session = await bigQueryConnector.connect({ name: 'bq', type: 'bigquery', connection: emulator.connection, tags: { prune: true }, owners: { map: {} }, templates: {}, options: { concurrency: 4 } });
    try {
      const id = `bq.${PROJECT}.sales.ext_files`;
      const operations = [
        { id: `${id}#options`, service: 'bq', database: PROJECT, changeIds: ['a'], statements: ["ALTER TABLE `metaform-test`.`sales`.`ext_files` SET OPTIONS (description = 'ordered')"] },
        { id: `${id}#columns`, service: 'bq', database: PROJECT, changeIds: ['b'], statements: ['tables.patch {"projectId":"metaform-test","datasetId":"sales","tableId":"ext_files","fields":{"line":"after the options"}}'] },
      ];
      // Side by side, the patch would read the etag, the ALTER land, and the patch meet a new etag.
      emulator.hooks.onRequest = (line) => new Promise((resolve) => setTimeout(resolve, line.startsWith('POST') ? 20 : line.startsWith('PATCH') ? 80 : 0));
      const results = await session.execute({ database: PROJECT, operations });
      assert.deepEqual(results.map((result) => [result.outcome, result.error]), [
        ['succeeded', undefined],
        ['succeeded', undefined],
      ]);
      assert.deepEqual([table('ext_files').description, table('ext_files').schema.fields[0]?.description], ['ordered', 'after the options']);
    } finally {
      emulator.hooks.onRequest = undefined;
      await session.close();
    }
  });

  it('imports YAML (descriptions, nested fields, labels) that plans to no changes, also when the queries answer late (jobComplete: false)', async () => {
    const dir = await project({ service: 'bq', database: PROJECT });
    try {
      // Without -d or databases, the connection's project; -d names projects (never a `default` database).
      const named = await importService(await loadProject(dir.dir), 'bq', { databases: [PROJECT] });
      const files = await importService(await loadProject(dir.dir), 'bq');
      assert.deepEqual(named, files);
      assert.equal(files[0]?.path, `metadata/bq/${PROJECT}.yaml`);
      assert.equal(files.length, 1);
      assert.match(files[0]?.content ?? '', /address\.city/);
      assert.match(files[0]?.content ?? '', /tags:/);
      assert.doesNotMatch(files[0]?.content ?? '', /eu_only/, 'another region is not read');
      await writeFile(join(dir.dir, 'metadata/bq.yaml'), files[0]?.content ?? '');
      assert.deepEqual((await createPlan(await loadProject(dir.dir))).plan.changes, []);
      emulator.incompleteNext = 5;
      assert.deepEqual((await createPlan(await loadProject(dir.dir))).plan.changes, []);
      assert.equal(emulator.incompleteNext, 0, 'the five queries were answered late, and polled');
    } finally {
      await dir.remove();
    }
  });

  it('a caller with BigQuery Data Viewer plans but cannot ALTER: the operation fails with the permission, naming project and location, never the token', async () => {
    emulator.principals.set('viewer-token', { email: 'viewer@corp.com', roles: ['roles/bigquery.dataViewer', 'roles/bigquery.jobUser'] });
    const dir = await project({ service: 'bq', database: PROJECT, schemas: { sales: { description: 'by a viewer' } } }, {}, { ...emulator.connection, accessToken: 'viewer-token' });
    try {
      const loaded = await loadProject(dir.dir);
      const report = await applyPlan(loaded, (await createPlan(loaded)).plan);
      assert.equal(report.failed, 1);
      assert.match(report.run.operations[0]?.error ?? '', /Permission bigquery\.datasets\.update denied/);
      assert.notEqual(sales.resource.description, 'by a viewer');
    } finally {
      await dir.remove();
    }
    const refused = await project({ service: 'bq', database: PROJECT, schemas: { sales: { description: 'x' } } }, {}, { ...emulator.connection, accessToken: 'secret-unknown-token' });
    try {
      await assert.rejects(createPlan(await loadProject(refused.dir)), (error: Error) => {
        assert.match(error.message, /BigQuery project metaform-test, location US/);
        assert.match(error.message, /the access token was refused \(HTTP 401\)/);
        assert.doesNotMatch(error.message, /secret-unknown-token/);
        return true;
      });
    } finally {
      await refused.remove();
    }
  });

  it('starts nothing once apply is interrupted, and stops at an unreachable endpoint', async () => {
    const session = await bigQueryConnector.connect({ name: 'bq', type: 'bigquery', connection: emulator.connection, tags: { prune: true }, owners: { map: {} }, templates: {}, options: { concurrency: 1 } });
    const operation = (id: string) => ({ id, service: 'bq', database: PROJECT, changeIds: [id], statements: [`ALTER SCHEMA \`${PROJECT}\`.sales SET OPTIONS (description = '${id}')`] });
    try {
      const controller = new AbortController();
      controller.abort();
      const before = emulator.requests.length;
      const results = await session.execute({ database: PROJECT, operations: [operation('a'), operation('b')], signal: controller.signal });
      assert.deepEqual(results.map((result) => [result.operationId, result.outcome, result.error]), [
        ['a', 'not-run', 'interrupted'],
        ['b', 'not-run', 'interrupted'],
      ]);
      assert.equal(emulator.requests.length, before, 'nothing reached BigQuery');
      // Interrupted after the first result: that one is done, nothing more starts.
      const midway = new AbortController();
      const ran = emulator.engine.statements.length;
      const partial = await session.execute({
        database: PROJECT,
        operations: [operation('e'), operation('f'), operation('g')],
        signal: midway.signal,
        onResult: () => midway.abort(),
      });
      assert.deepEqual(partial.map((result) => [result.operationId, result.outcome]), [
        ['e', 'succeeded'],
        ['f', 'not-run'],
        ['g', 'not-run'],
      ]);
      assert.deepEqual(emulator.engine.statements.slice(ran), [operation('e').statements[0]]);
      assert.equal(sales.resource.description, 'e');
    } finally {
      await session.close();
    }
    // A port nothing listens on: the first operation fails as unreachable, the rest are not tried.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const gone = await bigQueryConnector.connect({ name: 'bq', type: 'bigquery', connection: { ...emulator.connection, apiEndpoint: `http://127.0.0.1:${port}` }, tags: { prune: true }, owners: { map: {} }, templates: {}, options: { concurrency: 1 } });
    const results = await gone.execute({ database: PROJECT, operations: [operation('c'), operation('d')] });
    assert.equal(results[0]?.outcome, 'failed');
    assert.match(results[0]?.error ?? '', /ECONNREFUSED/);
    assert.equal(results[1]?.outcome, 'not-run');
    assert.match(results[1]?.error ?? '', /BigQuery project metaform-test, location US is unreachable/);
  });

  it('survives a dropped connection and a 503 during apply: the client retries jobs.query, and the ALTER runs once', async () => {
    const dir = await project({ service: 'bq', database: PROJECT, schemas: { sales: { tables: { v_orders: { description: 'after a blip' } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      const ran = emulator.engine.statements.length;
      emulator.failNext(1, 0, 'POST /projects/metaform-test/queries');
      emulator.failNext(1, 503, 'POST /projects/metaform-test/queries');
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations));
      assert.equal(table('v_orders').description, 'after a blip');
      // The verify read's five queries and the one ALTER, which ran once.
      assert.equal(emulator.engine.statements.slice(ran).filter((sql) => sql.startsWith('ALTER')).length, 1);
    } finally {
      await dir.remove();
    }
  });

  it('with credentials given (an access token, inline credentials, a key file), never asks the GCE metadata server, and never prints the key', async () => {
    let asked = 0;
    const metadata = createServer((_request, response) => {
      asked++;
      response.writeHead(200, { 'Metadata-Flavor': 'Google' });
      response.end('{}');
    });
    await new Promise<void>((resolve) => metadata.listen(0, '127.0.0.1', resolve));
    const saved = process.env['GCE_METADATA_HOST'];
    process.env['GCE_METADATA_HOST'] = `127.0.0.1:${(metadata.address() as AddressInfo).port}`;
    // A service account key; outside the default universe google-auth-library signs its own JWT
    // (no token exchange with oauth2.googleapis.com), which keeps the test offline.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const email = 'metaform@keys-project.iam.gserviceaccount.com';
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const key = { type: 'service_account', project_id: 'keys-project', private_key_id: 'k1', private_key: pem, client_email: email, client_id: '1', universe_domain: 'emulator.test' };
    const keyed = await startBigQueryEmulator({
      projectId: 'keys-project',
      serviceAccounts: { [email]: { publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(), roles: ['roles/bigquery.metadataViewer', 'roles/bigquery.jobUser'] } },
    });
    keyed.engine.addDataset('keys-project', 'from_a_key');
    const dir = await tempProject({});
    try {
      await writeFile(join(dir.dir, 'key.json'), JSON.stringify(key));
      const base = { projectId: 'keys-project', location: 'US', apiEndpoint: keyed.url };
      for (const connection of [{ ...base, credentials: key }, { ...base, keyFilename: join(dir.dir, 'key.json') }]) {
        const session = await bigQueryConnector.connect({ name: 'bq', type: 'bigquery', connection, tags: { prune: true }, owners: { map: {} }, templates: {}, options: {} });
        const snapshot = await session.read({ databases: ['keys-project'] });
        assert.deepEqual([...(snapshot.databases.get('keys-project')?.children.keys() ?? [])], ['from_a_key']);
      }
      // Another key than the account's: refused, and the message has neither key.
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const session = await bigQueryConnector.connect({ name: 'bq', type: 'bigquery', connection: { ...base, credentials: { ...key, private_key: other } }, tags: { prune: true }, owners: { map: {} }, templates: {}, options: {} });
      await assert.rejects(session.read({ databases: ['keys-project'] }), (error: Error) => {
        assert.match(error.message, /BigQuery project keys-project, location US\): the service account key was refused \(HTTP 401\)/);
        assert.doesNotMatch(error.message, /PRIVATE KEY|MII/);
        return true;
      });
      const viaToken = await bigQueryConnector.connect({ name: 'bq', type: 'bigquery', connection: emulator.connection, tags: { prune: true }, owners: { map: {} }, templates: {}, options: {} });
      assert.ok((await viaToken.read({ databases: [PROJECT], schemas: new Map([[PROJECT, ['sales']]]) })).databases.get(PROJECT)?.children.has('sales'));
      assert.equal(asked, 0, 'the metadata server was never asked');
    } finally {
      if (saved === undefined) delete process.env['GCE_METADATA_HOST'];
      else process.env['GCE_METADATA_HOST'] = saved;
      await new Promise<void>((resolve) => metadata.close(() => resolve()));
      await keyed.close();
      await dir.remove();
    }
  });
});
