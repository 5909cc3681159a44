import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runEachOperation, type RetryPolicy } from '../src/connectors/shared/execute.js';
import type { Operation, OperationResult } from '../src/core/model.js';

const operation = (id: string, statements: string[]): Operation => ({ id, service: 's', database: 'd', changeIds: [id], statements });
const ONE_RETRY_ON_BUSY: RetryPolicy = { attempts: 2, backoffMs: 1, isTransient: (error) => (error as Error).message === 'busy' };

describe('runEachOperation', () => {
  it('keeps at most `concurrency` operations in flight, each one\'s statements in order, results in plan order', async () => {
    const operations = Array.from({ length: 10 }, (_, i) => operation(`op${i}`, [`${i}a`, `${i}b`]));
    let inFlight = 0;
    let most = 0;
    const ran: string[] = [];
    const heard: string[] = [];
    const results = await runEachOperation(
      operations,
      async (sql) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, sql.startsWith('3') ? 15 : 2));
        ran.push(sql);
        inFlight--;
      },
      ONE_RETRY_ON_BUSY,
      (result) => heard.push(result.operationId),
      3,
    );
    assert.equal(most, 3);
    assert.deepEqual(results.map((result) => result.operationId), operations.map((op) => op.id));
    assert.ok(results.every((result) => result.outcome === 'succeeded'));
    for (let i = 0; i < 10; i++) assert.ok(ran.indexOf(`${i}a`) < ran.indexOf(`${i}b`), `operation ${i} ran its statements in order`);
    assert.notEqual(heard.indexOf('op3'), 3, 'a slow operation is heard when it ends, not in plan order');
  });

  it('reports a failure and still runs the others; retries only what the policy calls transient', async () => {
    const attempts = new Map<string, number>();
    const results: OperationResult[] = await runEachOperation(
      [operation('bad', ['bad']), operation('busy', ['busy']), operation('good', ['good'])],
      async (sql) => {
        attempts.set(sql, (attempts.get(sql) ?? 0) + 1);
        if (sql === 'bad') throw new Error('syntax error');
        if (sql === 'busy' && attempts.get(sql) === 1) throw new Error('busy');
      },
      ONE_RETRY_ON_BUSY,
      undefined,
      2,
    );
    assert.deepEqual(
      results.map((result) => [result.operationId, result.outcome, result.attempts, result.error]),
      [
        ['bad', 'failed', 1, 'syntax error'],
        ['busy', 'succeeded', 2, undefined],
        ['good', 'succeeded', 1, undefined],
      ],
    );
  });
});
