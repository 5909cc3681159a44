import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change, Operation, OperationResult } from '../../src/core/model.js';
import { orderOwnerLast, runInOrder } from '../../src/core/order.js';

const change = (id: string, path: string[], property: Change['property']): Change => ({
  id,
  service: 'wh',
  address: ['wh', ...path].join('.'),
  path,
  level: (['database', 'schema', 'table', 'column'] as const)[path.length - 1] ?? 'column',
  property,
  action: 'update',
  before: 'a',
  after: 'b',
});
const operation = (id: string, database = 'db'): Operation => ({ id, service: 'wh', database, changeIds: [id], statements: [`-- ${id}`] });

describe('owner last', () => {
  const changes = [
    change('table-owner', ['db', 's', 't'], 'owner'),
    change('table-comment', ['db', 's', 't'], 'description'),
    change('column-tag', ['db', 's', 't', 'c'], 'tag'),
    change('other-table', ['db', 's', 'u'], 'description'),
    change('schema-owner', ['db', 's'], 'owner'),
    change('schema-comment', ['db', 's'], 'description'),
  ];

  it('makes an owner change wait for every other operation on its object, a table\'s columns included, and nothing else', () => {
    const operations = changes.map((each) => operation(each.id));
    orderOwnerLast(operations, changes);
    const after = Object.fromEntries(operations.map((each) => [each.id, each.dependsOn ?? []]));
    assert.deepEqual(after, {
      'table-owner': ['table-comment', 'column-tag'],
      'table-comment': [],
      'column-tag': [],
      'other-table': [],
      'schema-owner': ['schema-comment'],
      'schema-comment': [],
    });
  });

  it('runs the owner change after the rest succeeded, and leaves it not-run when one of them failed', async () => {
    const operations = changes.map((each) => operation(each.id));
    orderOwnerLast(operations, changes);
    const waves: string[][] = [];
    const results: OperationResult[] = [];
    await runInOrder({
      operations,
      execute: async (wave, report) => {
        waves.push(wave.map((each) => each.id));
        for (const each of wave)
          report({ operationId: each.id, outcome: each.id === 'column-tag' ? 'failed' : 'succeeded', durationMs: 0, attempts: 1, ...(each.id === 'column-tag' ? { error: 'refused' } : {}) });
      },
      onResult: (result) => results.push(result),
    });
    assert.deepEqual(waves, [['table-comment', 'column-tag', 'other-table', 'schema-comment'], ['schema-owner']]);
    const owner = results.find((result) => result.operationId === 'table-owner');
    assert.equal(owner?.outcome, 'not-run');
    assert.match(owner?.error ?? '', /operation column-tag, which must succeed first, did not/);
    assert.equal(results.length, operations.length, 'every operation reported once');
  });

  it('starts no wave once the signal is aborted', async () => {
    const operations = changes.map((each) => operation(each.id));
    orderOwnerLast(operations, changes);
    const stop = new AbortController();
    const ran: string[] = [];
    await runInOrder({
      operations,
      signal: stop.signal,
      execute: async (wave, report) => {
        for (const each of wave) {
          ran.push(each.id);
          report({ operationId: each.id, outcome: 'succeeded', durationMs: 0, attempts: 1 });
        }
        stop.abort();
      },
      onResult: () => undefined,
    });
    assert.ok(!ran.includes('table-owner') && !ran.includes('schema-owner'));
  });
});
