import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorMessage, runEachOperation, type RetryPolicy } from '../src/connectors/shared/execute.js';
import { runPool } from '../src/core/pool.js';
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
      { onResult: (result) => heard.push(result.operationId), concurrency: 3 },
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
      { concurrency: 2 },
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

  it('starts nothing once the signal is aborted: operations in flight finish, the rest are not-run "interrupted"', async () => {
    const controller = new AbortController();
    const operations = Array.from({ length: 20 }, (_, i) => operation(`op${i}`, [`${i}`]));
    const started: string[] = [];
    const heard: OperationResult[] = [];
    const results = await runEachOperation(
      operations,
      async (sql) => {
        started.push(sql);
        if (sql === '4') controller.abort();
        await new Promise((resolve) => setTimeout(resolve, 2));
      },
      ONE_RETRY_ON_BUSY,
      { concurrency: 2, signal: controller.signal, onResult: (result) => heard.push(result) },
    );
    assert.ok(started.length <= 6, `no operation started after the abort (started ${started.join(',')})`);
    const ran = results.filter((result) => result.outcome === 'succeeded').map((result) => result.operationId);
    assert.deepEqual(ran, started.map((sql) => `op${sql}`), 'the operations in flight finished');
    const notRun = results.filter((result) => result.outcome === 'not-run');
    assert.equal(notRun.length, 20 - started.length);
    assert.ok(notRun.every((result) => result.error === 'interrupted' && result.attempts === 0));
    assert.equal(heard.length, 20, 'every operation is reported, the ones not run included');
  });

  it('a signal aborted before the start runs nothing', async () => {
    const results = await runEachOperation([operation('a', ['a'])], () => assert.fail('nothing runs'), ONE_RETRY_ON_BUSY, { signal: AbortSignal.abort() });
    assert.deepEqual(results.map((result) => result.outcome), ['not-run']);
  });

  it('stops at an unreachable server: the rest are not-run with one error, not retried one by one', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const policy: RetryPolicy = {
      attempts: 3,
      backoffMs: 1,
      isTransient: () => true,
      isUnreachable: (error) => (error as { code?: string }).code === 'ECONNREFUSED',
    };
    let calls = 0;
    const operations = Array.from({ length: 1000 }, (_, i) => operation(`op${i}`, [`${i}`]));
    const results = await runEachOperation(
      operations,
      async () => {
        calls++;
        throw refused;
      },
      policy,
      { concurrency: 2, target: 'ClickHouse at http://127.0.0.1:1' },
    );
    assert.ok(calls <= 6, `at most one operation's attempts per worker (${calls} calls)`);
    const failed = results.filter((result) => result.outcome === 'failed');
    assert.ok(failed.length >= 1 && failed.length <= 2);
    const notRun = results.filter((result) => result.outcome === 'not-run');
    assert.equal(notRun.length, 1000 - failed.length);
    assert.deepEqual(new Set(notRun.map((result) => result.error)), new Set(['not run: ClickHouse at http://127.0.0.1:1 is unreachable (connect ECONNREFUSED 127.0.0.1:1)']));
  });
});

describe('runPool', () => {
  it('takes no new item once its signal is aborted', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    await runPool([1, 2, 3, 4, 5], 1, async (item) => {
      seen.push(item);
      if (item === 2) controller.abort();
    }, controller.signal);
    assert.deepEqual(seen, [1, 2]);
  });
});

describe('errorMessage', () => {
  it('keeps the message and code, not a stack trace the client appended', () => {
    const error = Object.assign(new Error(`Code: 60. DB::Exception: Unknown table. (UNKNOWN_TABLE)\nStack trace:\n${'    at frame\n'.repeat(50)}`), { code: '60' });
    assert.equal(errorMessage(error), 'Code: 60. DB::Exception: Unknown table. (UNKNOWN_TABLE)');
    const node = new Error(`socket hang up\n${'    at Socket.emit (node:events:1)\n'.repeat(50)}`);
    assert.equal(errorMessage(node), 'socket hang up');
  });
});
