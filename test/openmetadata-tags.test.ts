/**
 * Tags through the OpenMetadata loop, on an in-memory engine that holds tags at every level
 * (none of the engines that run here has tags): import takes only manual classification labels,
 * pull writes tag edits into the YAML in place (flow maps, shorthand columns, comments kept),
 * push writes manual labels and keeps the ones it does not manage, creating a missing
 * classification and tag only when allowed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Connector, ConnectorSession } from '../src/connectors/types.js';
import { diffService } from '../src/core/diff.js';
import { findLive, newLiveObject, liveChild, type CatalogSnapshot, type LiveObject } from '../src/core/model.js';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { loadProject } from '../src/core/project.js';
import { OpenMetadataClient } from '../src/openmetadata/client.js';
import { importFromCatalog } from '../src/openmetadata/import.js';
import { commitPulledEdits, describePull, pullCatalogEdits } from '../src/openmetadata/pull.js';
import { appliedChanges, pendingCatalogChanges, pushApplied } from '../src/openmetadata/push.js';
import { catalogState } from '../src/openmetadata/state.js';
import { manualTag, startOpenMetadataEmulator, type OpenMetadataEmulator, type TagLabel } from './emulators/openmetadata/server.js';
import { tempProject, type TempProject } from './support/project.js';

/** An engine whose catalog is a tree in memory; a statement sets one property. */
function memoryEngine(databases: Map<string, LiveObject>): Connector {
  const session: ConnectorSession = {
    async read(request) {
      const snapshot: CatalogSnapshot = { service: 'shop', databases: new Map(), server: {}, queries: 1 };
      for (const name of request.databases) {
        const database = databases.get(name);
        if (database) snapshot.databases.set(name, structuredClone(database));
      }
      return snapshot;
    },
    async execute(request) {
      return request.operations.map((operation) => {
        for (const statement of operation.statements) {
          const { path, property, key, value } = JSON.parse(statement) as { path: string[]; property: string; key?: string; value: string | null };
          const object = findLive({ service: 'shop', databases, server: {}, queries: 0 }, path) as LiveObject;
          if (property === 'description') object.description = value;
          else if (property === 'owner') object.owner = value;
          else {
            object.tags ??= {};
            if (value === null) delete object.tags[key as string];
            else object.tags[key as string] = value;
          }
        }
        const result = { operationId: operation.id, outcome: 'succeeded' as const, durationMs: 0, attempts: 1 };
        request.onResult?.(result);
        return result;
      });
    },
    async close() {},
  };
  return {
    type: 'memory',
    displayName: 'Memory',
    capabilities: { description: ['database', 'schema', 'table', 'column'], owner: ['database', 'schema', 'table'], tags: ['database', 'schema', 'table', 'column'], maxOwners: 1, ownerRemovable: true },
    dialect: () => ({ quoteIdentifier: (name) => name, quoteLiteral: (value) => String(value), qualifiedName: (path) => path.join('.') }),
    render: (changes) => ({
      operations: changes.map((change) => ({ id: change.id, service: change.service, database: change.path[0] as string, changeIds: [change.id], statements: [JSON.stringify({ path: change.path, property: change.property, key: change.key, value: change.after })] })),
      skipped: [],
    }),
    describeTarget: () => 'memory',
    connect: async () => session,
  };
}

function sourceTree(): Map<string, LiveObject> {
  const database = newLiveObject('database', 'db');
  const sales = liveChild(database, 'schema', 'sales');
  sales.description = null;
  sales.tags = {};
  const orders = liveChild(sales, 'table', 'orders');
  Object.assign(orders, { description: 'One row per order', tags: { Tier: 'Tier2' }, owner: null });
  Object.assign(liveChild(orders, 'column', 'id'), { description: 'Primary key', tags: {} });
  Object.assign(liveChild(orders, 'column', 'email'), { description: 'Buyer email', tags: { PII: 'Sensitive' } });
  return new Map([['db', database]]);
}

const YAML_TEXT = `# Orders mart, kept by the sales team
service: shop
database: db
schemas:
  sales:
    tables:
      orders:
        description: One row per order   # reviewed
        tags: { Tier: Tier2 }
        columns:
          id: Primary key
          email: { description: Buyer email, tags: { PII: Sensitive } }
`;

const propagated: TagLabel = { tagFQN: 'Tier.Tier1', source: 'Classification', labelType: 'Propagated', state: 'Confirmed' };
const glossary: TagLabel = { tagFQN: 'Glossary.Orders', source: 'Glossary', labelType: 'Manual', state: 'Confirmed' };

describe('OpenMetadata tags through import, pull and push', () => {
  let emulator: OpenMetadataEmulator;
  let project: TempProject;
  let client: OpenMetadataClient;
  const source = sourceTree();
  const engine = memoryEngine(source);
  const load = () => loadProject(project.dir, { connectorFor: (type) => (type === 'memory' ? engine : undefined) });

  before(async () => {
    emulator = await startOpenMetadataEmulator();
    emulator.addUser('jane', 'jane@corp.com', false, 'jane-token');
    emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
    for (const [classification, tag] of [['PII', 'Sensitive'], ['PII', 'None'], ['Tier', 'Tier1'], ['Tier', 'Tier2']] as const) emulator.addTag(classification, tag);
    emulator.addEntity('database', 'shop', 'db');
    emulator.addEntity('databaseSchema', 'shop.db', 'sales');
    emulator.addEntity('table', 'shop.db.sales', 'orders', {
      description: 'One row per order',
      tags: [manualTag('Tier.Tier2'), glossary],
      columns: [{ name: 'id', description: 'Primary key', tags: [propagated] }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }],
    });
    project = await tempProject({ version: 1, services: { shop: { type: 'memory' } }, openmetadata: { url: emulator.url, token: 'bot-token' } }, { 'metadata/shop.yaml': YAML_TEXT });
    client = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' }, { retryDelayMs: 1 });
  });
  after(async () => {
    await project?.remove();
    await emulator?.close();
  });

  const edit = async (operations: unknown[]) => {
    const orders = emulator.entity('shop.db.sales.orders');
    const response = await fetch(`${emulator.url}/api/v1/tables/${orders?.id}`, { method: 'PATCH', headers: { authorization: 'Bearer jane-token', 'content-type': 'application/json-patch+json' }, body: JSON.stringify(operations) });
    assert.equal(response.status, 200, await response.text());
  };
  const catalogDrift = async () => {
    const loaded = await load();
    const state = await catalogState(loaded, 'shop', { client });
    return diffService({ service: loaded.config.services.get('shop')!.config, desired: loaded.desired.get('shop')!, snapshot: state.snapshot }).changes;
  };

  it('imports an owner set on an asset, not one it inherits from its container', async () => {
    const other = await startOpenMetadataEmulator();
    try {
      other.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
      other.addUser('jane', 'jane@corp.com');
      other.addTeam('sales');
      other.addEntity('database', 'shop', 'db');
      other.addEntity('databaseSchema', 'shop.db', 'sales', { owners: ['sales'] });
      other.addEntity('table', 'shop.db.sales', 'orders', { columns: [] }); // inherits the schema's owner on read
      other.addEntity('table', 'shop.db.sales', 'refunds', { owners: ['jane'], columns: [] });
      const otherClient = await OpenMetadataClient.connect({ url: other.url, token: 'bot-token' }, { retryDelayMs: 1 });
      const [file] = await importFromCatalog(await load(), 'shop', { client: otherClient });
      const document = parse(file!.content) as { schemas: { sales: { owners: string[]; tables?: Record<string, { owners?: string[] }> } } };
      assert.deepEqual(document.schemas.sales.owners, ['sales']);
      assert.equal(document.schemas.sales.tables?.['orders'], undefined);
      assert.deepEqual(document.schemas.sales.tables?.['refunds']?.owners, ['jane']);
    } finally {
      await other.close();
    }
  });

  it('imports only manual classification labels, as key: value', async () => {
    const [file] = await importFromCatalog(await load(), 'shop', { client });
    const document = parse(file!.content) as { schemas: { sales: { tables: { orders: { tags: object; columns: Record<string, unknown> } } } } };
    const orders = document.schemas.sales.tables.orders;
    assert.deepEqual(orders.tags, { Tier: 'Tier2' }, 'the glossary term is left alone');
    assert.equal(orders.columns['id'], 'Primary key', 'the propagated Tier1 label is left alone');
    assert.deepEqual(orders.columns['email'], { description: 'Buyer email', tags: { PII: 'Sensitive' } });
    assert.deepEqual(await catalogDrift(), []);
  });

  it('pulls tag edits into the YAML in place: flow maps, a shorthand column, comments kept', async () => {
    await edit([
      { op: 'add', path: '/columns/0/tags', value: [propagated, manualTag('PII.None')] },
      { op: 'add', path: '/columns/1/tags', value: [manualTag('PII.None')] },
      { op: 'add', path: '/tags', value: [glossary] },
    ]);
    const result = await pullCatalogEdits(await load(), { client });
    assert.deepEqual(result.conflicts, []);
    assert.deepEqual(result.edits.map((item) => [item.address, item.key, item.before, item.after]).sort(), [
      ['shop.db.sales.orders', 'Tier', 'Tier2', null],
      ['shop.db.sales.orders.email', 'PII', 'Sensitive', 'None'],
      ['shop.db.sales.orders.id', 'PII', undefined, 'None'],
    ]);
    const text = await readFile(join(project.dir, 'metadata/shop.yaml'), 'utf8');
    assert.equal(
      text,
      `# Orders mart, kept by the sales team
service: shop
database: db
schemas:
  sales:
    tables:
      orders:
        description: One row per order # reviewed
        tags: {}
        columns:
          id:
            description: Primary key
            tags: { PII: None }
          email: { description: Buyer email, tags: { PII: None } }
`,
    );
    const loaded = await load();
    const { plan } = await createPlan(loaded);
    const report = await applyPlan(loaded, plan);
    assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error)));
    assert.deepEqual(source.get('db')?.children.get('sales')?.children.get('orders')?.tags, {});
    assert.deepEqual(await pendingCatalogChanges(loaded, 'shop', { client }), []);
    assert.deepEqual(await catalogDrift(), []);
    assert.deepEqual((await pullCatalogEdits(await load(), { client })).files, [], 'a second pull writes nothing');
  });

  it('commits pulled files on a new branch with simple-git', async () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: project.dir, encoding: 'utf8' });
    git('init', '-q', '-b', 'main');
    git('add', '.');
    git('commit', '-qm', 'start');
    await edit([{ op: 'replace', path: '/description', value: 'Orders, one per row' }]);
    const result = await pullCatalogEdits(await load(), { client });
    assert.deepEqual(result.files, ['metadata/shop.yaml']);
    const committed = await commitPulledEdits(project.dir, 'metaform/pull-1', result.files);
    assert.equal(git('rev-parse', '--abbrev-ref', 'HEAD').trim(), 'metaform/pull-1');
    assert.match(git('show', '--stat', committed.commit), /metadata\/shop.yaml \| 2 \+-/);
    const loaded = await load();
    await applyPlan(loaded, (await createPlan(loaded)).plan);
  });

  it('pushes tags as manual labels, keeping the labels it does not manage; creates a tag only when allowed', async () => {
    const path = join(project.dir, 'metadata/shop.yaml');
    const text = await readFile(path, 'utf8');
    await project.write('metadata/shop.yaml', text.replace('tags: {}', 'tags: { Domain: Sales }').replace('tags: { PII: None }\n', 'tags: { PII: Sensitive }\n'));
    const loaded = await load();
    const { plan } = await createPlan(loaded);
    const report = await applyPlan(loaded, plan);
    const applied = appliedChanges(plan.changes, report.run.operations);
    assert.equal(applied.length, 2);
    const refused = await pushApplied(loaded, applied, { client });
    assert.equal(refused[0]?.outcome, 'failed');
    assert.match(refused[0]?.error ?? '', /tag Domain\.Sales does not exist in OpenMetadata.*createTags/);
    assert.equal(emulator.entity('shop.db.sales.orders')?.columns?.[0]?.tags.length, 2, 'nothing of the entity was written');

    const created = await pushApplied(loaded, await pendingCatalogChanges(loaded, 'shop', { client }), { client, createTags: true });
    assert.deepEqual(created.map((result) => result.outcome), ['succeeded']);
    const orders = emulator.entity('shop.db.sales.orders');
    assert.deepEqual(orders?.tags.map((tag) => [tag.tagFQN, tag.labelType, tag.source]), [['Glossary.Orders', 'Manual', 'Glossary'], ['Domain.Sales', 'Manual', 'Classification']]);
    assert.deepEqual(orders?.columns?.[0]?.tags.map((tag) => tag.tagFQN), ['Tier.Tier1', 'PII.Sensitive'], 'the propagated label is kept');
    assert.ok(emulator.classifications.has('Domain'));
    assert.deepEqual(await catalogDrift(), []);
  });
});

describe('OpenMetadata server with bug #28876 (If-Match drops column changes)', () => {
  it('finds the dropped column write by a re-read and sends it again without If-Match', async () => {
    const emulator = await startOpenMetadataEmulator({ dropColumnChangesOnIfMatch: true });
    const source = sourceTree();
    const engine = memoryEngine(source);
    emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
    for (const [classification, tag] of [['PII', 'Sensitive'], ['Tier', 'Tier2']] as const) emulator.addTag(classification, tag);
    emulator.addEntity('database', 'shop', 'db');
    emulator.addEntity('databaseSchema', 'shop.db', 'sales');
    emulator.addEntity('table', 'shop.db.sales', 'orders', { description: 'One row per order', tags: [manualTag('Tier.Tier2')], columns: [{ name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }] });
    const project = await tempProject({ version: 1, services: { shop: { type: 'memory' } }, openmetadata: { url: emulator.url, token: 'bot-token' } }, { 'metadata/shop.yaml': YAML_TEXT.replace('Buyer email', 'Buyer e-mail address').replace('One row per order', 'Orders') });
    try {
      const loaded = await loadProject(project.dir, { connectorFor: (type) => (type === 'memory' ? engine : undefined) });
      const { plan } = await createPlan(loaded);
      const report = await applyPlan(loaded, plan);
      const client = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' }, { retryDelayMs: 1 });
      const results = await pushApplied(loaded, appliedChanges(plan.changes, report.run.operations), { client });
      assert.deepEqual(results.map((result) => [result.outcome, result.error]), [['succeeded', undefined]]);
      const orders = emulator.entity('shop.db.sales.orders');
      assert.equal(orders?.description, 'Orders');
      assert.equal(orders?.columns?.[1]?.description, 'Buyer e-mail address');
      const patches = emulator.requests.filter((request) => request.method === 'PATCH');
      assert.deepEqual(patches.map((request) => request.ifMatch !== undefined), [true, false]);
    } finally {
      await project.remove();
      await emulator.close();
    }
  });
});

describe('OpenMetadata pull of awkward values and of objects the YAML does not name yet', () => {
  it('writes multi-line, spaced and control-character descriptions that load back byte-identical, and adds a table under its schema', async () => {
    const emulator = await startOpenMetadataEmulator();
    const source = sourceTree();
    const sales = source.get('db')?.children.get('sales') as LiveObject;
    Object.assign(liveChild(sales, 'table', 'customers'), { description: null, tags: {} });
    const engine = memoryEngine(source);
    emulator.addUser('jane', 'jane@corp.com', false, 'jane-token');
    emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
    for (const [classification, tag] of [['PII', 'Sensitive'], ['Tier', 'Tier2']] as const) emulator.addTag(classification, tag);
    emulator.addEntity('database', 'shop', 'db');
    emulator.addEntity('databaseSchema', 'shop.db', 'sales');
    emulator.addEntity('table', 'shop.db.sales', 'orders', { description: 'One row per order', tags: [manualTag('Tier.Tier2')], columns: [{ name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }] });
    const customers = emulator.addEntity('table', 'shop.db.sales', 'customers', { columns: [{ name: 'id' }] });
    const project = await tempProject({ version: 1, services: { shop: { type: 'memory' } }, openmetadata: { url: emulator.url, token: 'bot-token' } }, { 'metadata/shop.yaml': YAML_TEXT });
    const load = () => loadProject(project.dir, { connectorFor: (type) => (type === 'memory' ? engine : undefined) });
    const values = ['line one\nline two\r\nline three\ttabbed', '   leading and trailing spaces   ', 'control\u0001chars\u001f\u007f', "it's a 'quoted' \"word\": # not a comment, {flow}"];
    try {
      const client = await OpenMetadataClient.connect({ url: emulator.url, token: 'jane-token' }, { retryDelayMs: 1 });
      const orders = emulator.entity('shop.db.sales.orders');
      await client.patch('tables', orders!.id, [{ op: 'replace', path: '/description', value: values[0] }, { op: 'replace', path: '/columns/0/description', value: values[1] }, { op: 'replace', path: '/columns/1/description', value: values[2] }], undefined, 'edit');
      await client.patch('tables', customers.id, [{ op: 'add', path: '/description', value: values[3] }], undefined, 'edit');
      const bot = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' }, { retryDelayMs: 1 });
      const result = await pullCatalogEdits(await load(), { client: bot });
      assert.equal(result.edits.length, 4);
      const loaded = await load();
      const desired = loaded.desired.get('shop')?.get('db')?.children.get('sales')?.children;
      assert.equal(desired?.get('orders')?.description?.value, values[0]);
      assert.equal(desired?.get('orders')?.children.get('id')?.description?.value, values[1]);
      assert.equal(desired?.get('orders')?.children.get('email')?.description?.value, values[2]);
      assert.equal(desired?.get('customers')?.description?.value, values[3]);
      const text = await readFile(join(project.dir, 'metadata/shop.yaml'), 'utf8');
      assert.ok(text.startsWith('# Orders mart, kept by the sales team\n'));
      assert.deepEqual((await pullCatalogEdits(loaded, { client: bot })).files, [], 'a second pull writes nothing');
    } finally {
      await project.remove();
      await emulator.close();
    }
  });
});

describe('OpenMetadata server without change summaries', () => {
  it("tells a person's edit from a bot's by the entity's last updater", async () => {
    const emulator = await startOpenMetadataEmulator({ version: '1.4.2', etag: false, changeSummary: false });
    const source = sourceTree();
    const sales = source.get('db')?.children.get('sales') as LiveObject;
    Object.assign(liveChild(sales, 'table', 'customers'), { description: null, tags: {} });
    const engine = memoryEngine(source);
    emulator.addUser('jane', 'jane@corp.com', false, 'jane-token');
    emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
    emulator.tokens.set('ingestion-token', 'ingestion-bot');
    for (const [classification, tag] of [['PII', 'Sensitive'], ['Tier', 'Tier2']] as const) emulator.addTag(classification, tag);
    emulator.addEntity('database', 'shop', 'db');
    emulator.addEntity('databaseSchema', 'shop.db', 'sales');
    const orders = emulator.addEntity('table', 'shop.db.sales', 'orders', { description: 'One row per order', tags: [manualTag('Tier.Tier2')], columns: [{ name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }] });
    const customers = emulator.addEntity('table', 'shop.db.sales', 'customers', { columns: [{ name: 'id' }] });
    const project = await tempProject({ version: 1, services: { shop: { type: 'memory' } }, openmetadata: { url: emulator.url, token: 'bot-token' } }, { 'metadata/shop.yaml': YAML_TEXT });
    try {
      const jane = await OpenMetadataClient.connect({ url: emulator.url, token: 'jane-token' }, { retryDelayMs: 1 });
      await jane.patch('tables', orders.id, [{ op: 'replace', path: '/description', value: 'Orders, as jane says' }], undefined, 'edit');
      const ingestion = await OpenMetadataClient.connect({ url: emulator.url, token: 'ingestion-token' }, { retryDelayMs: 1 });
      await ingestion.patch('tables', customers.id, [{ op: 'add', path: '/description', value: 'from the connector' }], undefined, 'edit');
      assert.equal(emulator.entity('shop.db.sales.orders')?.changeDescription?.['changeSummary'], undefined);
      const bot = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' }, { retryDelayMs: 1 });
      const result = await pullCatalogEdits(await loadProject(project.dir, { connectorFor: (type) => (type === 'memory' ? engine : undefined) }), { client: bot });
      assert.deepEqual(result.edits.map((edit) => [edit.address, edit.after, edit.changedBy]), [['shop.db.sales.orders', 'Orders, as jane says', 'jane']]);
    } finally {
      await project.remove();
      await emulator.close();
    }
  });
});

/**
 * The server's own rules, each through the client against the emulator (issue 18): every test
 * here fails on the client before its fix.
 */
describe('OpenMetadata as the server behaves', () => {
  interface Setup {
    emulator: OpenMetadataEmulator;
    project: TempProject;
    client: OpenMetadataClient;
    source: Map<string, LiveObject>;
    load: () => ReturnType<typeof loadProject>;
    /** Applies the YAML to the engine, then pushes what was applied. */
    applyAndPush: (options?: { createTags?: boolean }) => Promise<Awaited<ReturnType<typeof pushApplied>>>;
  }
  const setups: Setup[] = [];
  after(async () => {
    for (const setup of setups) {
      await setup.project.remove();
      await setup.emulator.close();
    }
  });

  async function setup(yaml: string, seed: (emulator: OpenMetadataEmulator) => void, options: { version?: string; source?: (tree: Map<string, LiveObject>) => void } = {}): Promise<Setup> {
    const emulator = await startOpenMetadataEmulator(options.version ? { version: options.version } : {});
    emulator.addUser('jane', 'jane@corp.com', false, 'jane-token');
    emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
    emulator.tokens.set('ingestion-token', 'ingestion-bot');
    emulator.addTeam('sales');
    emulator.addEntity('database', 'shop', 'db');
    emulator.addEntity('databaseSchema', 'shop.db', 'sales');
    seed(emulator);
    const source = sourceTree();
    options.source?.(source);
    const engine = memoryEngine(source);
    const project = await tempProject({ version: 1, services: { shop: { type: 'memory', owners: { map: { sales: 'sales' } } } }, openmetadata: { url: emulator.url, token: 'bot-token' } }, { 'metadata/shop.yaml': yaml });
    const client = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' }, { retryDelayMs: 1 });
    const load = () => loadProject(project.dir, { connectorFor: (type) => (type === 'memory' ? engine : undefined) });
    const applyAndPush = async (push: { createTags?: boolean } = {}) => {
      const loaded = await load();
      const { plan } = await createPlan(loaded);
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0);
      return pushApplied(loaded, appliedChanges(plan.changes, report.run.operations), { client, ...push });
    };
    const made = { emulator, project, client, source, load, applyAndPush };
    setups.push(made);
    return made;
  }
  const orders = (emulator: OpenMetadataEmulator, fields: Parameters<OpenMetadataEmulator['addEntity']>[3] = {}) =>
    emulator.addEntity('table', 'shop.db.sales', 'orders', { description: 'One row per order', tags: [manualTag('Tier.Tier2')], columns: [{ name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }], ...fields });
  const drift = async (s: Setup) => {
    const loaded = await s.load();
    const state = await catalogState(loaded, 'shop', { client: s.client });
    return diffService({ service: loaded.config.services.get('shop')!.config, desired: loaded.desired.get('shop')!, snapshot: state.snapshot }).changes;
  };
  const patches = (emulator: OpenMetadataEmulator) => emulator.requests.filter((request) => request.method === 'PATCH');

  it('sends If-Match as Java writes the version: W/"1.0" for an entity at a whole version', async () => {
    const s = await setup(YAML_TEXT.replace('One row per order', 'Orders'), (emulator) => {
      orders(emulator).version = 1; // EntityUtil.nextMajorVersion after a dropped column, say
    });
    const results = await s.applyAndPush();
    assert.deepEqual(results.map((result) => [result.outcome, result.attempts, result.error]), [['succeeded', 1, undefined]]);
    assert.equal(patches(s.emulator)[0]?.ifMatch, 'W/"1.0"');
    assert.equal(s.emulator.entity('shop.db.sales.orders')?.version, 1.1);
  });

  it('a value of a mutually exclusive classification (PII) replaces its Automated label, and says so', async () => {
    const s = await setup(YAML_TEXT.replace('tags: { PII: Sensitive }', 'tags: { PII: NonSensitive }'), (emulator) => {
      orders(emulator, { columns: [{ name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer email', tags: [{ tagFQN: 'PII.Sensitive', source: 'Classification', labelType: 'Automated', state: 'Confirmed' }] }] });
    });
    const results = await s.applyAndPush();
    assert.deepEqual(results.map((result) => [result.outcome, result.error]), [['succeeded', undefined]]);
    assert.deepEqual(s.emulator.entity('shop.db.sales.orders')?.columns?.[1]?.tags.map((tag) => [tag.tagFQN, tag.labelType]), [['PII.NonSensitive', 'Manual']]);
    assert.match(results[0]?.notes?.join('\n') ?? '', /PII\.NonSensitive replaces the Automated label PII\.Sensitive \(classification PII is mutually exclusive\)/);
    assert.deepEqual(await drift(s), []);
  });

  it('creates a classification as mutually exclusive (a source key holds one value)', async () => {
    const s = await setup(YAML_TEXT.replace('tags: { Tier: Tier2 }', 'tags: { Tier: Tier2, Region: EU }'), (emulator) => orders(emulator));
    const results = await s.applyAndPush({ createTags: true });
    assert.equal(results[0]?.outcome, 'succeeded', results[0]?.error);
    assert.equal(s.emulator.classifications.get('Region')?.mutuallyExclusive, true);
  });

  it('two labels of one non-exclusive classification on one asset: that key is reported, the rest of the service is read', async () => {
    const s = await setup(YAML_TEXT, (emulator) => {
      emulator.addTag('Domain', 'Sales');
      emulator.addTag('Domain', 'Marketing');
      orders(emulator, { columns: [{ name: 'id', description: 'Primary key', tags: [manualTag('Domain.Sales'), manualTag('Domain.Marketing')] }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }] });
    });
    const skipped: string[] = [];
    const [file] = await importFromCatalog(await s.load(), 'shop', { client: s.client, onSkipped: (message) => skipped.push(message) });
    assert.match(skipped.join('\n'), /ambiguous tag Domain on shop\.db\.sales\.orders\.id: the catalog has "Sales" and "Marketing"/);
    assert.deepEqual((parse(file!.content) as { schemas: { sales: { tables: { orders: { columns: { email: unknown } } } } } }).schemas.sales.tables.orders.columns.email, { description: 'Buyer email', tags: { PII: 'Sensitive' } });
    const pulled = await pullCatalogEdits(await s.load(), { client: s.client, dryRun: true });
    assert.match(pulled.unsupported.map((issue) => issue.reason).join('\n'), /ambiguous tag Domain on shop\.db\.sales\.orders\.id/);
    await s.project.write('metadata/shop.yaml', YAML_TEXT.replace('id: Primary key', 'id: { description: Primary key, tags: { Domain: Sales } }'));
    const results = await s.applyAndPush();
    assert.equal(results[0]?.outcome, 'failed');
    assert.match(results[0]?.error ?? '', /ambiguous tag Domain on .*orders.*id: the catalog has "Sales" and "Marketing": not written/);
    assert.deepEqual(s.emulator.entity('shop.db.sales.orders')?.columns?.[0]?.tags.map((tag) => tag.tagFQN), ['Domain.Sales', 'Domain.Marketing'], 'neither value is dropped');
  });

  it('nested tags: PII.Sensitive.Email is key PII, value Sensitive.Email, read and written as the child tag', async () => {
    const s = await setup(YAML_TEXT, (emulator) => {
      emulator.addTag('Data', 'Contact');
      emulator.addTag('Data', 'Email', { parent: 'Data.Contact' });
      emulator.addTag('Data', 'Phone', { parent: 'Data.Contact' });
      orders(emulator, { columns: [{ name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive'), manualTag('Data.Contact.Email')] }] });
    }, { source: (tree) => Object.assign(tree.get('db')!.children.get('sales')!.children.get('orders')!.children.get('email')!.tags!, { Data: 'Contact.Email' }) });
    const [file] = await importFromCatalog(await s.load(), 'shop', { client: s.client });
    assert.match(file!.content, /Data: Contact\.Email/);
    await s.project.write('metadata/shop.yaml', YAML_TEXT.replace('tags: { PII: Sensitive }', 'tags: { PII: Sensitive, Data: Contact.Phone }'));
    const results = await s.applyAndPush();
    assert.equal(results[0]?.outcome, 'succeeded', results[0]?.error);
    assert.deepEqual(s.emulator.entity('shop.db.sales.orders')?.columns?.[1]?.tags.map((tag) => tag.tagFQN), ['PII.Sensitive', 'Data.Contact.Phone']);
    assert.deepEqual(await drift(s), []);
    await s.project.write('metadata/shop.yaml', YAML_TEXT.replace('tags: { PII: Sensitive }', 'tags: { PII: Sensitive, Data: Contact.Fax }'));
    const created = await s.applyAndPush({ createTags: true });
    assert.equal(created[0]?.outcome, 'succeeded', created[0]?.error);
    assert.equal(s.emulator.tags.get('Data.Contact.Fax')?.parent, 'Data.Contact', 'created as a child of Contact');
    assert.ok(!s.emulator.tags.has('Data."Contact.Fax"'));
  });

  it("compares an entity's own owners: an inherited owner is no drift and gets no PATCH", async () => {
    const yaml = YAML_TEXT.replace('        tags: { Tier: Tier2 }\n', '        owners: []\n        tags: { Tier: Tier2 }\n');
    const s = await setup(yaml, (emulator) => {
      orders(emulator);
      const schema = emulator.entity('shop.db.sales');
      if (schema) schema.owners = [{ id: emulator.teams.get('sales')!.id, type: 'team', name: 'sales', fullyQualifiedName: 'sales' }];
    });
    const read = await s.client.getByName('tables', 'shop.db.sales.orders', ['owners'], 'orders');
    assert.deepEqual(read?.body.owners?.map((owner) => [owner.name, owner.inherited]), [['sales', true]], 'the emulator computes the inherited owner on read');
    assert.deepEqual(await drift(s), []);
    assert.deepEqual(await pendingCatalogChanges(await s.load(), 'shop', { client: s.client }), []);
  });

  it('a tag already applied by another labelType is reported, not sent (the server keeps the first label of a tag)', async () => {
    const s = await setup(YAML_TEXT.replace('id: Primary key', 'id: { description: Primary key, tags: { Tier: Tier1 } }'), (emulator) => {
      orders(emulator, { columns: [{ name: 'id', description: 'Primary key', tags: [propagated] }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }] });
    });
    const results = await s.applyAndPush();
    assert.equal(results[0]?.outcome, 'failed');
    assert.match(results[0]?.error ?? '', /tag Tier\.Tier1 on .*id is already applied as a Propagated label; OpenMetadata keeps one label per tag/);
    assert.deepEqual(patches(s.emulator), [], 'nothing else to write, nothing sent');
  });

  it('a failed test is a 500 on servers before PR #28316: the entity is read again and the patch planned anew', async () => {
    const s = await setup(YAML_TEXT.replace('Buyer email', 'Buyer e-mail'), (emulator) => {
      orders(emulator, { columns: [{ name: 'legacy' }, { name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }] });
      // Another writer drops a column between metaform's read and its write: indexes shift.
      emulator.beforeNextPatch(() => emulator.dropColumn('shop.db.sales.orders', 'legacy'));
    }, { version: '1.9.0' });
    const results = await s.applyAndPush();
    assert.deepEqual(results.map((result) => [result.outcome, result.error]), [['succeeded', undefined]]);
    assert.deepEqual(patches(s.emulator).map((request) => request.status), [500, 200], 'the 500 is not retried as it was sent: read again, planned again');
    assert.equal(s.emulator.entity('shop.db.sales.orders')?.columns?.[1]?.description, 'Buyer e-mail');
    assert.equal(s.emulator.entity('shop.db.sales.orders')?.version, 1.2, 'a dropped column moves the version by 1.0, an edit by 0.1');
  });

  for (const [version, quoting] of [['1.13.0', 'doubled quotes'], ['1.9.0', '\\" escapes']] as const)
    it(`finds names with a backslash and a quote by the FQN rules of the server (${version}: ${quoting})`, async () => {
      const names = ['back\\slash', 'say "hi"'];
      const s = await setup(`service: shop\ndatabase: db\nschemas:\n  sales:\n    tables:\n${names.map((name) => `      ${JSON.stringify(name)}: { description: Edited }\n`).join('')}`, (emulator) => {
        for (const name of names) emulator.addEntity('table', 'shop.db.sales', name, { columns: [] });
      }, { version, source: (tree) => { for (const name of names) Object.assign(liveChild(tree.get('db')!.children.get('sales')!, 'table', name), { description: null, tags: {} }); } });
      const results = await s.applyAndPush();
      assert.deepEqual(results.map((result) => [result.outcome, result.error]), names.map(() => ['succeeded', undefined]));
      for (const name of names) assert.equal(s.emulator.entity(s.emulator.fqn('shop', 'db', 'sales', name))?.description, 'Edited');
    });

  it('sends a name with / as %2F in the path segment (what Jetty does with it is unverified)', async () => {
    const s = await setup('service: shop\ndatabase: db\nschemas:\n  sales:\n    tables:\n      a/b: { description: Edited }\n', (emulator) => {
      emulator.addEntity('table', 'shop.db.sales', 'a/b', { columns: [] });
    }, { source: (tree) => Object.assign(liveChild(tree.get('db')!.children.get('sales')!, 'table', 'a/b'), { description: null, tags: {} }) });
    const results = await s.applyAndPush();
    assert.equal(results[0]?.outcome, 'succeeded', results[0]?.error);
    assert.ok(s.emulator.requests.some((request) => request.path.startsWith('/api/v1/tables/name/shop.db.sales.a%2Fb?')));
  });

  it('labels that are not Manual and Confirmed (Generated, Suggested) are not managed', async () => {
    const s = await setup(YAML_TEXT, (emulator) => {
      emulator.addTag('Domain', 'Sales');
      orders(emulator, { columns: [{ name: 'id', description: 'Primary key', tags: [{ tagFQN: 'Domain.Sales', source: 'Classification', labelType: 'Generated', state: 'Confirmed' }] }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive'), { ...manualTag('Tier.Tier1'), state: 'Suggested' }] }] });
    });
    const [file] = await importFromCatalog(await s.load(), 'shop', { client: s.client });
    const columns = (parse(file!.content) as { schemas: { sales: { tables: { orders: { columns: Record<string, unknown> } } } } }).schemas.sales.tables.orders.columns;
    assert.deepEqual([columns['id'], columns['email']], ['Primary key', { description: 'Buyer email', tags: { PII: 'Sensitive' } }]);
  });

  it("pull tells people from bots for fields without a change summary: tags and a database's description, from the version history", async () => {
    const s = await setup(YAML_TEXT.replace('database: db\n', 'database: db\ndescription: The shop\n'), (emulator) => orders(emulator), { source: (tree) => (tree.get('db')!.description = 'The shop') });
    const patch = async (fqn: string, collection: string, token: string, operations: unknown[]) => {
      const response = await fetch(`${s.emulator.url}/api/v1/${collection}/${s.emulator.entity(fqn)?.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json-patch+json' }, body: JSON.stringify(operations) });
      assert.equal(response.status, 200, await response.text());
    };
    await patch('shop.db', 'databases', 'jane-token', [{ op: 'add', path: '/description', value: 'The shop, by jane' }]);
    await patch('shop.db.sales.orders', 'tables', 'jane-token', [{ op: 'add', path: '/columns/1/tags', value: [manualTag('PII.None')] }]);
    await patch('shop.db.sales.orders', 'tables', 'ingestion-token', [{ op: 'add', path: '/tags', value: [manualTag('Tier.Tier3')] }]);
    assert.deepEqual(s.emulator.entity('shop.db')?.changeSummary, {}, 'databases register no summarised field');
    const result = await pullCatalogEdits(await s.load(), { client: s.client, dryRun: true });
    assert.deepEqual(result.edits.map((edit) => [edit.address, edit.property, edit.key, edit.after, edit.changedBy]).sort(), [
      ['shop.db', 'description', undefined, 'The shop, by jane', 'jane'],
      ['shop.db.sales.orders.email', 'tag', 'PII', 'None', 'jane'],
    ]);
    assert.deepEqual(result.unattributed, [], "the ingestion's Tier edit is a bot's: not pulled, not reported");
  });

  it("a later version that drops another column does not hide a person's column tag edit", async () => {
    const s = await setup(YAML_TEXT, (emulator) => orders(emulator, { columns: [{ name: 'legacy' }, { name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer email', tags: [manualTag('PII.Sensitive')] }] }));
    const response = await fetch(`${s.emulator.url}/api/v1/tables/${s.emulator.entity('shop.db.sales.orders')?.id}`, { method: 'PATCH', headers: { authorization: 'Bearer jane-token', 'content-type': 'application/json-patch+json' }, body: JSON.stringify([{ op: 'add', path: '/columns/2/tags', value: [manualTag('PII.None')] }]) });
    assert.equal(response.status, 200);
    s.emulator.dropColumn('shop.db.sales.orders', 'legacy');
    const result = await pullCatalogEdits(await s.load(), { client: s.client, dryRun: true });
    assert.deepEqual(result.edits.map((edit) => [edit.address, edit.after, edit.changedBy]), [['shop.db.sales.orders.email', 'None', 'jane']]);
  });

  it('pull says per object when the author cannot be known', async () => {
    const s = await setup(YAML_TEXT, (emulator) => orders(emulator));
    s.emulator.addUser('temp', 'temp@corp.com', false, 'temp-token');
    const response = await fetch(`${s.emulator.url}/api/v1/tables/${s.emulator.entity('shop.db.sales.orders')?.id}`, { method: 'PATCH', headers: { authorization: 'Bearer temp-token', 'content-type': 'application/json-patch+json' }, body: JSON.stringify([{ op: 'add', path: '/tags', value: [manualTag('Tier.Tier1')] }]) });
    assert.equal(response.status, 200);
    s.emulator.users.delete('temp');
    const result = await pullCatalogEdits(await s.load(), { client: s.client, dryRun: true });
    assert.deepEqual(result.edits, []);
    assert.deepEqual(result.unattributed.map((issue) => [issue.address, issue.key, issue.changedBy]), [['shop.db.sales.orders', 'Tier', 'temp']]);
    assert.match(describePull(result).join('\n'), /\? shop\.db\.sales\.orders tag Tier: not written: who set the catalog's value cannot be known: user temp is not in the catalog/);
  });
});
