import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildFqn, splitFqn } from './emulators/openmetadata/fqn.js';
import { manualTag, startOpenMetadataEmulator, type OpenMetadataEmulator } from './emulators/openmetadata/server.js';

async function call(emulator: OpenMetadataEmulator, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown>; etag: string | null }> {
  const response = await fetch(`${emulator.url}/api/v1/${path}`, {
    method,
    headers: { authorization: 'Bearer jane-token', 'content-type': method === 'PATCH' ? 'application/json-patch+json' : 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown>, etag: response.headers.get('etag') };
}

function seed(emulator: OpenMetadataEmulator): void {
  emulator.addUser('jane', 'jane@corp.com', false, 'jane-token');
  emulator.addTeam('platform');
  emulator.addTeam('Org', 'Organization');
  emulator.addTag('PII', 'Sensitive');
  emulator.addTag('PII', 'None');
  emulator.addEntity('database', 'svc', 'db');
  emulator.addEntity('databaseSchema', 'svc.db', 'sales.eu');
  emulator.addEntity('table', buildFqn('svc', 'db', 'sales.eu'), 'orders', { columns: [{ name: 'id' }, { name: 'a.b' }, { name: 'email' }] });
  for (let i = 0; i < 25; i++) emulator.addEntity('table', buildFqn('svc', 'db', 'sales.eu'), `t${i}`);
}

describe('OpenMetadata emulator', () => {
  for (const version of ['1.4.2', '1.9.0', '1.13.0']) {
    describe(`server ${version}`, () => {
      let emulator: OpenMetadataEmulator;
      const table = buildFqn('svc', 'db', 'sales.eu', 'orders');
      const owners = version === '1.4.2' ? 'owner' : 'owners';
      before(async () => {
        emulator = await startOpenMetadataEmulator({ version, etag: version !== '1.4.2' });
        seed(emulator);
      });
      after(() => emulator.close());

      it('refuses a request without a valid token', async () => {
        const response = await fetch(`${emulator.url}/api/v1/system/version`);
        assert.equal(response.status, 401);
      });

      it('reports its version and pages with cursors', async () => {
        assert.equal((await call(emulator, 'GET', 'system/version')).json['version'], version);
        const schema = encodeURIComponent(buildFqn('svc', 'db', 'sales.eu'));
        const names: string[] = [];
        let after: string | undefined;
        do {
          const { json } = await call(emulator, 'GET', `tables?databaseSchema=${schema}&limit=10&fields=columns,tags${after ? `&after=${after}` : ''}`);
          for (const entity of json['data'] as { name: string }[]) names.push(entity.name);
          after = (json['paging'] as { after?: string }).after;
        } while (after);
        assert.equal(names.length, 26);
      });

      it(`accepts only the ${owners} field and shape of this version`, async () => {
        const wrong = owners === 'owner' ? 'owners' : 'owner';
        assert.equal((await call(emulator, 'GET', `tables/name/${encodeURIComponent(table)}?fields=${wrong}`)).status, 400);
        const jane = emulator.users.get('jane');
        const value = owners === 'owner' ? { id: jane?.id, type: 'user' } : [{ id: jane?.id, type: 'user' }];
        const bad = await call(emulator, 'PATCH', `tables/name/${encodeURIComponent(table)}`, [{ op: 'add', path: `/${wrong}`, value }]);
        assert.equal(bad.status, 400);
        const good = await call(emulator, 'PATCH', `tables/name/${encodeURIComponent(table)}`, [{ op: 'add', path: `/${owners}`, value }]);
        assert.equal(good.status, 200, JSON.stringify(good.json));
        const extra = owners === 'owner' ? { id: jane?.id, type: 'user', email: 'x' } : [{ id: jane?.id, type: 'user', email: 'x' }];
        assert.equal((await call(emulator, 'PATCH', `tables/name/${encodeURIComponent(table)}`, [{ op: 'add', path: `/${owners}`, value: extra }])).status, 400);
        const org = emulator.teams.get('Org');
        const orgValue = owners === 'owner' ? { id: org?.id, type: 'team' } : [{ id: org?.id, type: 'team' }];
        assert.equal((await call(emulator, 'PATCH', `tables/name/${encodeURIComponent(table)}`, [{ op: 'add', path: `/${owners}`, value: orgValue }])).status, 400);
      });

      it('validates TagLabels: required fields, unknown fields, unknown tags', async () => {
        const path = `tables/name/${encodeURIComponent(table)}`;
        assert.equal((await call(emulator, 'PATCH', path, [{ op: 'add', path: '/tags/-', value: { tagFQN: 'PII.Sensitive' } }])).status, 400);
        assert.equal((await call(emulator, 'PATCH', path, [{ op: 'add', path: '/tags/-', value: { ...manualTag('PII.Sensitive'), colour: 'red' } }])).status, 400);
        assert.equal((await call(emulator, 'PATCH', path, [{ op: 'add', path: '/tags/-', value: manualTag('PII.Nope') }])).status, 404);
        const ok = await call(emulator, 'PATCH', path, [{ op: 'add', path: '/columns/1/tags', value: [manualTag('PII.Sensitive')] }]);
        assert.equal(ok.status, 200);
        const column = emulator.entity(table)?.columns?.[1];
        assert.deepEqual(column?.tags.map((tag) => tag.tagFQN), ['PII.Sensitive']);
        assert.equal(emulator.entity(table)?.changeSummary[buildFqn('columns', 'a.b', 'tags')], undefined, 'tags are never summarised (ChangeSummarizer registers no tags field)');
      });

      it('guards a column index with a JSON Patch test', async () => {
        const path = `tables/name/${encodeURIComponent(table)}`;
        const stale = await call(emulator, 'PATCH', path, [{ op: 'test', path: '/columns/0/name', value: 'email' }, { op: 'add', path: '/columns/0/description', value: 'x' }]);
        assert.equal(stale.status, version === '1.13.0' ? 400 : 500, 'a failed test is a 400 only from PR #28316');
        assert.equal(emulator.entity(table)?.columns?.[0]?.description, undefined);
      });

      if (version !== '1.4.2')
        it('answers 412 to a stale If-Match and accepts the weak version validator', async () => {
          const path = `tables/name/${encodeURIComponent(table)}`;
          const got = await call(emulator, 'GET', `${path}?fields=columns`);
          assert.ok(got.etag);
          const stale = await call(emulator, 'PATCH', path, [{ op: 'add', path: '/description', value: 'x' }], { 'if-match': 'W/"0.1"' });
          assert.equal(stale.status, 412);
          const fresh = await call(emulator, 'PATCH', path, [{ op: 'add', path: '/description', value: 'x' }], { 'if-match': `W/"${String(got.json['version'])}"` });
          assert.equal(fresh.status, 200);
          const strong = await call(emulator, 'PATCH', path, [{ op: 'add', path: '/description', value: 'y' }], { 'if-match': got.etag });
          assert.equal(strong.status, 412, 'the strong ETag of an older version is stale');
        });

      it('updates a column by FQN and rejects unknown UpdateColumn fields', async () => {
        const column = encodeURIComponent(buildFqn('svc', 'db', 'sales.eu', 'orders', 'a.b'));
        assert.equal((await call(emulator, 'PUT', `columns/name/${column}?entityType=table`, { description: 'dotted', name: 'x' })).status, 400);
        assert.equal((await call(emulator, 'PUT', `columns/name/${column}?entityType=table`, { description: 'dotted' })).status, 200);
        assert.equal(emulator.entity(table)?.columns?.[1]?.description, 'dotted');
      });

      it('creates classifications and tags from their Create shapes', async () => {
        assert.equal((await call(emulator, 'POST', 'classifications', { name: 'Domain' })).status, 400);
        assert.equal((await call(emulator, 'POST', 'classifications', { name: 'Domain', description: 'domains', colour: 1 })).status, 400);
        assert.equal((await call(emulator, 'POST', 'classifications', { name: 'Domain', description: 'domains' })).status, 201);
        assert.equal((await call(emulator, 'POST', 'classifications', { name: 'Tier', description: 'tiers' })).status, 409, 'Tier ships with the server');
        assert.equal((await call(emulator, 'POST', 'tags', { name: 'Sales', description: 's', classification: 'Domain' })).status, 201);
        assert.equal((await call(emulator, 'POST', 'tags', { name: 'EU', description: 'eu', classification: 'Domain', parent: 'Domain.Sales' })).status, 201);
        assert.equal((await call(emulator, 'GET', 'tags/name/Domain.Sales.EU')).status, 200, "a child tag's FQN is its parent's, a dot and its name");
        assert.equal((await call(emulator, 'GET', 'classifications/name/PII')).json['mutuallyExclusive'], true);
      });

      it('lists change events since a time', async () => {
        const { json } = await call(emulator, 'GET', 'events?entityUpdated=table&timestamp=0');
        assert.ok((json['data'] as unknown[]).length > 0);
        assert.equal((await call(emulator, 'GET', 'events?entityUpdated=table')).status, 400);
      });

      it('answers injected failures', async () => {
        emulator.failNext('GET', 'system/version', 503);
        assert.equal((await call(emulator, 'GET', 'system/version')).status, 503);
        assert.equal((await call(emulator, 'GET', 'system/version')).status, 200);
      });
    });
  }

  it('takes the weak validator as Java writes the version, and steps versions by 0.1 and, for a dropped column, 1.0', async () => {
    const emulator = await startOpenMetadataEmulator();
    try {
      seed(emulator);
      const table = buildFqn('svc', 'db', 'sales.eu', 'orders');
      const path = `tables/name/${encodeURIComponent(table)}`;
      const entity = emulator.entity(table);
      assert.ok(entity);
      entity.version = 2; // EntityUtil.nextMajorVersion gives whole versions
      assert.equal((await call(emulator, 'PATCH', path, [{ op: 'add', path: '/description', value: 'x' }], { 'if-match': 'W/"2"' })).status, 412, 'JavaScript formatting of 2.0');
      assert.equal((await call(emulator, 'PATCH', path, [{ op: 'add', path: '/description', value: 'x' }], { 'if-match': 'W/"2.0"' })).status, 200);
      assert.equal(emulator.entity(table)?.version, 2.1);
      emulator.dropColumn(table, 'email');
      assert.equal(emulator.entity(table)?.version, 3.1);
      const { json } = await call(emulator, 'GET', `tables/${entity.id}/versions`);
      assert.deepEqual((json['versions'] as string[]).map((version) => (JSON.parse(version) as { version: number }).version), [3.1, 2.1, 2]);
    } finally {
      await emulator.close();
    }
  });

  it('splits and builds FQNs by the current rules: quotes doubled, a backslash is itself', () => {
    assert.equal(buildFqn('svc', 'a.b', 'say "hi"', 'a\\b'), 'svc."a.b"."say ""hi""".a\\b');
    assert.deepEqual(splitFqn('svc."a.b"."say ""hi""".a\\b'), ['svc', 'a.b', 'say "hi"', 'a\\b']);
    assert.throws(() => splitFqn('svc.say"hi'));
  });
});
