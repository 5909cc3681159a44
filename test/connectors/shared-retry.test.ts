import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { retried, retryAfterMs } from '../../src/connectors/shared/execute.js';

describe('the shared retry', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(retryAfterMs('2'), 2000);
    assert.equal(retryAfterMs('Thu, 03 Dec 2026 08:00:05 GMT', Date.parse('Thu, 03 Dec 2026 08:00:00 GMT')), 5000);
    assert.equal(retryAfterMs('soon'), undefined);
    assert.equal(retryAfterMs(null), undefined);
  });

  it('retries a transient error and throws the last one, and never retries a permanent one', async () => {
    let calls = 0;
    const policy = { attempts: 3, backoffMs: 1, isTransient: (error: unknown) => (error as Error).message === 'busy' };
    assert.equal(await retried(policy, async () => (++calls < 3 ? Promise.reject(new Error('busy')) : 'ok')), 'ok');
    assert.equal(calls, 3);
    calls = 0;
    await assert.rejects(retried(policy, async () => (++calls, Promise.reject(new Error('syntax')))), /syntax/);
    assert.equal(calls, 1);
  });
});
