import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffService } from '../src/core/diff.js';
import type { DesiredObject } from '../src/core/desired.js';
import { interpolate } from '../src/core/env.js';
import { formatAddress, parseAddress, type CatalogSnapshot, type Change, type LiveObject } from '../src/core/model.js';
import { assemblePlan } from '../src/core/plan.js';
import { loadProject } from '../src/core/project.js';
import { renderTemplate, unknownPlaceholders } from '../src/core/templates.js';
import { connectorFor } from '../src/connectors/registry.js';
import type { Connector, ServiceConfig } from '../src/connectors/types.js';
import { postgresDialect } from '../src/connectors/postgres/dialect.js';
import { wordDiff } from '../src/report/values.js';
import { createColors } from 'picocolors';
import { tempProject } from './support/project.js';

const at = { file: 'm.yaml', line: 1, col: 1 };

function service(overrides: Partial<ServiceConfig> = {}): ServiceConfig {
  return { name: 'svc', type: 'fake', connection: {}, tags: { prune: true }, owners: { map: {} }, templates: {}, options: {}, ...overrides };
}

function desiredTable(props: Partial<DesiredObject>): Map<string, DesiredObject> {
  const table: DesiredObject = { level: 'table', path: ['db', 's', 't'], declaredAt: at, children: new Map(), ...props };
  const schema: DesiredObject = { level: 'schema', path: ['db', 's'], declaredAt: at, children: new Map([['t', table]]) };
  return new Map([['db', { level: 'database', path: ['db'], declaredAt: at, children: new Map([['s', schema]]) }]]);
}

function liveTable(props: Partial<LiveObject>): CatalogSnapshot {
  const table: LiveObject = { level: 'table', name: 't', children: new Map(), ...props };
  const schema: LiveObject = { level: 'schema', name: 's', children: new Map([['t', table]]) };
  return { service: 'svc', databases: new Map([['db', { level: 'database', name: 'db', children: new Map([['s', schema]]) }]]), server: {}, queries: 0 };
}

const tag = (value: string | null) => ({ value, at });

describe('diff', () => {
  it('sets the complete tag set when pruning, and only listed keys otherwise', () => {
    const desired = desiredTable({ tags: new Map([['PII', tag('Sensitive')], ['Tier', tag(null)], ['Team', tag('data')]]) });
    const live = liveTable({ tags: { PII: 'None', Tier: 'Gold', Legacy: 'yes', Team: 'data' } });
    const pruned = diffService({ service: service(), desired, snapshot: live }).changes;
    assert.deepEqual(
      pruned.map((c) => [c.id, c.action, c.before, c.after]),
      [
        ['svc.db.s.t#tag:PII', 'update', 'None', 'Sensitive'],
        ['svc.db.s.t#tag:Tier', 'remove', 'Gold', null],
        ['svc.db.s.t#tag:Legacy', 'remove', 'yes', null],
      ],
    );
    const kept = diffService({ service: service({ tags: { prune: false } }), desired, snapshot: live }).changes;
    assert.deepEqual(kept.map((c) => c.id), ['svc.db.s.t#tag:PII', 'svc.db.s.t#tag:Tier']);
  });

  it('treats an empty live comment as none, maps owners, and leaves absent properties alone', () => {
    const desired = desiredTable({ description: { value: null, at }, owners: { value: ['jane@corp.com'], at } });
    const live = liveTable({ description: '', owner: 'postgres', tags: { X: 'y' } });
    const changes = diffService({ service: service({ owners: { map: { 'jane@corp.com': 'jane' } } }), desired, snapshot: live }).changes;
    assert.deepEqual(changes.map((c) => [c.property, c.action, c.after]), [['owner', 'update', 'jane']]);
  });

  it('reports missing objects with the place they were declared', () => {
    const desired = desiredTable({ description: { value: 'x', at: { file: 'a.yaml', line: 9, col: 3 } } });
    const live: CatalogSnapshot = { service: 'svc', databases: new Map([['db', { level: 'database', name: 'db', children: new Map() }]]), server: {}, queries: 0 };
    const result = diffService({ service: service(), desired, snapshot: live });
    assert.deepEqual(result.missing, [{ address: 'svc.db.s', level: 'schema', at }]);
  });

  it('matches names through the engine folding and renders live names', () => {
    const table: DesiredObject = { level: 'table', path: ['DB', 'Sales', 'Orders'], declaredAt: at, description: { value: 'x', at }, children: new Map() };
    const desired = new Map([['db', { level: 'database' as const, path: ['DB'], declaredAt: at, children: new Map([['sales', { level: 'schema' as const, path: ['DB', 'Sales'], declaredAt: at, children: new Map([['orders', table]]) }]]) }]]);
    const live: CatalogSnapshot = {
      service: 'svc',
      databases: new Map([['db', { level: 'database', name: 'db', children: new Map([['sales', { level: 'schema', name: 'sales', children: new Map([['orders', { level: 'table', name: 'orders', children: new Map() }]]) }]]) }]]),
      server: {},
      queries: 0,
    };
    const { changes } = diffService({ service: service(), desired, snapshot: live, canonicalName: (name) => name.toLowerCase() });
    assert.deepEqual(changes.map((c) => c.path), [['db', 'sales', 'orders']]);
  });
});

describe('addresses', () => {
  it('quotes parts with dots or quotes, and parses back', () => {
    const path = ['db', 'Sales "Mart".v2', "Order's", 'a.b'];
    const address = formatAddress('svc', path);
    assert.equal(address, `svc.db."Sales ""Mart"".v2".Order's."a.b"`);
    assert.deepEqual(parseAddress(address), ['svc', ...path]);
  });
});

describe('environment interpolation', () => {
  it('reads variables, defaults, escapes, and lists what is missing', () => {
    const env = { HOST: 'db.internal', EMPTY: '' };
    assert.deepEqual(interpolate('${HOST}:${PORT:-5432}/${EMPTY:-x} $${HOST} ${NOPE}', env), {
      value: 'db.internal:5432/x ${HOST} ',
      missing: ['NOPE'],
    });
  });

  it('takes a variable set to "" as set, as the shell does (an empty password is a password)', () => {
    assert.deepEqual(interpolate('password=${PASSWORD}', { PASSWORD: '' }), { value: 'password=', missing: [] });
  });
});

describe('templates', () => {
  const change: Change = { id: 'i', service: 'svc', address: 'a', path: ['db', 'My Schema', 'T"x'], level: 'table', property: 'description', action: 'add', before: null, after: "it's" };
  const dialect = postgresDialect({});
  it('quotes every placeholder by the dialect, raw only on request', () => {
    assert.equal(
      renderTemplate('COMMENT ON TABLE {object} IS {value} -- {table} {raw.value} {database}', change, dialect),
      `COMMENT ON TABLE "My Schema"."T""x" IS 'it''s' -- "T""x" it's "db"`,
    );
    assert.equal(renderTemplate('X {value}', { ...change, after: null }, dialect), 'X NULL');
  });
  it('names unknown placeholders and placeholders the change does not have', () => {
    assert.deepEqual(unknownPlaceholders('{object} {vaule} {raw.nope}'), ['{vaule}', '{raw.nope}']);
    assert.throws(() => renderTemplate('{owner}', change, dialect), /uses \{owner\}, which a table description change does not have/);
  });
});

describe('plan assembly', () => {
  it('marks changes the connector skipped, with the reason, and counts them apart', () => {
    const fake: Connector = {
      type: 'fake',
      displayName: 'Fake',
      capabilities: { description: ['table'], owner: [], tags: [], maxOwners: 0, ownerRemovable: true },
      dialect: () => postgresDialect({}),
      render: (changes) => ({ operations: [], skipped: changes.map((c) => ({ changeId: c.id, reason: 'too long' })) }),
      describeTarget: () => 'nowhere',
      connect: () => Promise.reject(new Error('unused')),
    };
    const c: Change = { id: 'i', service: 'svc', address: 'a', path: ['db', 's', 't'], level: 'table', property: 'description', action: 'add', before: null, after: 'x' };
    const plan = assemblePlan([{ connector: fake, service: service(), changes: [c], snapshot: liveTable({}) }], { createdAt: 'now' });
    assert.equal(plan.changes[0]?.skipped, 'too long');
    assert.deepEqual(plan.summary, { add: 0, update: 0, remove: 0, skipped: 1 });
  });
});

describe('loading', () => {
  it('reports an ambiguous tag with both values and places, and tags on an engine without them', async () => {
    const project = await tempProject(
      { version: 1, services: { warehouse: { type: 'postgres', connection: {} } } },
      {
        'metadata/a.yaml': 'service: warehouse\ndatabase: db\nschemas:\n  s:\n    tags: { PII: Sensitive }\n',
        'metadata/b.yaml': 'service: warehouse\ndatabase: db\nschemas:\n  s:\n    tags: { PII: None }\n',
      },
    );
    try {
      await assert.rejects(loadProject(project.dir), /metadata\/b\.yaml:5:18: ambiguous tag PII on warehouse\.db\.s: "Sensitive" \(metadata\/a\.yaml:5:18\) and "None"/);
      await project.write('metadata/b.yaml', '');
      await assert.rejects(loadProject(project.dir), /metadata\/a\.yaml:5:18: PostgreSQL \(postgres\) does not support tags on a schema \(warehouse\.db\.s\)\n {2}hint: postgres supports tags on: no level/);
    } finally {
      await project.remove();
    }
  });

  it('rejects an unknown system and an unknown service with the places to fix', async () => {
    const project = await tempProject(
      { version: 1, services: { lake: { type: 'hive' } } },
      { 'metadata/a.yaml': 'service: warehouse\ndatabase: db\n' },
    );
    try {
      await assert.rejects(loadProject(project.dir), (error: Error) => {
        assert.match(String(error), /metadata\/a\.yaml:1:10: unknown service "warehouse"\n {2}hint: services in metaform\.yaml: lake/);
        return true;
      });
      await project.write('metadata/a.yaml', '');
      await assert.rejects(loadProject(project.dir), /metaform\.yaml:3:3: service lake: unknown type "hive"/);
    } finally {
      await project.remove();
    }
  });

  it('rejects YAML syntax errors and duplicate keys with their position', async () => {
    const project = await tempProject({ version: 1, services: { w: { type: 'postgres' } } }, { 'metadata/a.yaml': 'service: w\ndatabase: db\ndatabase: again\n' });
    try {
      await assert.rejects(loadProject(project.dir), /metadata\/a\.yaml:3:1: invalid YAML: duplicate key "database"/);
    } finally {
      await project.remove();
    }
  });
});

describe('registry', () => {
  it('knows every system it has a folder for', () => {
    for (const type of ['postgres', 'redshift']) assert.equal(connectorFor(type)?.type, type);
  });
});

describe('word diff', () => {
  it('marks removed and added words', () => {
    assert.equal(wordDiff('one row per order', 'one row per placed order', createColors(false)), 'one row per {+placed +}order');
  });
});
