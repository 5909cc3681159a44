import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { changeDigests, planHash, serviceHashes } from '../src/core/plan-hash.js';
import type { Plan } from '../src/core/plan.js';

function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    formatVersion: 3,
    createdAt: '2026-01-01T00:00:00.000Z',
    metaformVersion: '0.1.0',
    git: { commit: 'aaaa', dirty: false },
    server: { shop: { app: { standardConformingStrings: true } } },
    changes: [
      { id: 'shop.app.s.t#description', service: 'shop', address: 'shop.app.s.t', path: ['app', 's', 't'], level: 'table', property: 'description', action: 'add', before: null, after: 'Orders', operation: 'op1', source: { file: 'a.yaml', line: 3, col: 5 } },
      { id: 'shop.app.s#owner', service: 'shop', address: 'shop.app.s', path: ['app', 's'], level: 'schema', property: 'owner', action: 'update', before: 'a', after: 'b', operation: 'op2' },
    ],
    operations: [
      { id: 'op1', service: 'shop', database: 'app', changeIds: ['shop.app.s.t#description'], statements: [`COMMENT ON TABLE "s"."t" IS 'Orders'`] },
      { id: 'op2', service: 'shop', database: 'app', changeIds: ['shop.app.s#owner'], statements: ['ALTER SCHEMA "s" OWNER TO "b"'] },
    ],
    warnings: [],
    summary: { add: 1, update: 1, remove: 0, skipped: 0 },
    ...overrides,
  };
}

describe('planHash', () => {
  it('is a sha256 that ignores createdAt, git, warnings, source locations and order', () => {
    const base = plan();
    const hash = planHash(base);
    assert.match(hash, /^sha256:[0-9a-f]{64}$/);
    const noise = plan({ createdAt: '2027-01-01T00:00:00.000Z', git: { commit: 'bbbb' }, warnings: ['w'], metaformVersion: '9' });
    noise.changes = [...noise.changes].reverse().map((change) => ({ ...change, source: { file: 'b.yaml', line: 9, col: 1 } }));
    noise.operations = [...noise.operations].reverse();
    assert.equal(planHash(noise), hash);
  });

  it('changes with any approved field: value, action, key, skipped reason, statements', () => {
    const hash = planHash(plan());
    const variants: ((p: Plan) => void)[] = [
      (p) => (p.changes[0]!.after = 'Orders!'),
      (p) => (p.changes[0]!.before = ''),
      (p) => (p.changes[1]!.action = 'remove'),
      (p) => (p.changes[1]!.key = 'k'),
      (p) => (p.changes[1]!.skipped = 'no privilege'),
      (p) => (p.operations[0]!.statements = [`COMMENT ON TABLE "s"."t" IS 'Orders '`]),
      (p) => p.changes.pop(),
    ];
    const seen = new Set([hash]);
    for (const mutate of variants) {
      const changed = plan();
      changed.changes = changed.changes.map((change) => ({ ...change }));
      changed.operations = changed.operations.map((operation) => ({ ...operation }));
      mutate(changed);
      const other = planHash(changed);
      assert.ok(!seen.has(other), `${mutate.toString()} must change the hash`);
      seen.add(other);
    }
  });

  it('does not confuse field boundaries (a value that contains what would be the next field)', () => {
    const a = plan();
    const b = plan();
    a.changes = [{ ...a.changes[0]!, before: 'x', after: 'y' }];
    b.changes = [{ ...b.changes[0]!, before: 'x","y', after: null }];
    assert.notEqual(planHash(a), planHash(b));
  });

  it('hashes per service and digests per change, so a difference can be named', () => {
    const base = plan();
    const other = plan();
    other.changes = [...other.changes, { ...other.changes[0]!, service: 'crm', id: 'crm.x#description', address: 'crm.x' }];
    assert.equal(serviceHashes(base).get('shop'), serviceHashes(other).get('shop'));
    assert.ok(serviceHashes(other).has('crm'));
    const changedStatement = plan();
    changedStatement.operations = [{ ...changedStatement.operations[0]!, statements: ['COMMENT ON TABLE x IS NULL'] }, changedStatement.operations[1]!];
    const before = changeDigests(base);
    const after = changeDigests(changedStatement);
    assert.notEqual(before.get('shop\u0000shop.app.s.t#description'), after.get('shop\u0000shop.app.s.t#description'));
    assert.equal(before.get('shop\u0000shop.app.s#owner'), after.get('shop\u0000shop.app.s#owner'));
  });

  it('hashes 200,000 changes with long descriptions', () => {
    const changes: Plan['changes'] = [];
    const operations: Plan['operations'] = [];
    const long = 'word '.repeat(2000);
    for (let i = 0; i < 200_000; i++) {
      const id = `w.db.s.t${i}#description`;
      changes.push({ id, service: 'w', address: `w.db.s.t${i}`, path: ['db', 's', `t${i}`], level: 'table', property: 'description', action: 'add', before: null, after: i % 100 === 0 ? long : `t${i}`, operation: id });
      operations.push({ id, service: 'w', database: 'db', changeIds: [id], statements: [`COMMENT ON TABLE "s"."t${i}" IS 't${i}'`] });
    }
    const big = plan({ changes, operations });
    assert.equal(planHash(big), planHash({ changes: [...changes].reverse(), operations }));
  });
});
