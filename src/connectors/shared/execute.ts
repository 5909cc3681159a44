import type { Operation, OperationResult } from '../../core/model.js';
import { runPool } from '../../core/pool.js';

export interface RetryPolicy {
  /** Attempts per operation, the first included. */
  attempts: number;
  /** Delay before the second attempt; doubles each time. */
  backoffMs: number;
  isTransient(error: unknown): boolean;
}

export const NO_RETRY: RetryPolicy = { attempts: 1, backoffMs: 0, isTransient: () => false };

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work`, retrying transient failures with exponential backoff. */
export async function withRetry<T>(
  policy: RetryPolicy,
  work: () => Promise<T>,
): Promise<{ value?: T; error?: unknown; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await work(), attempts: attempt };
    } catch (error) {
      if (attempt >= policy.attempts || !policy.isTransient(error)) return { error, attempts: attempt };
      await sleep(policy.backoffMs * 2 ** (attempt - 1));
    }
  }
}

/**
 * Runs operations, each statement of an operation in order, for engines without transactional
 * DDL: one at a time, or up to `concurrency` at once where the engine runs independent ALTERs side
 * by side. A failed operation is reported and the others still run. Results come back in the
 * operations' order; `onResult` hears each as soon as it is known.
 */
export async function runEachOperation(
  operations: readonly Operation[],
  runStatement: (sql: string) => Promise<unknown>,
  policy: RetryPolicy,
  onResult?: (result: OperationResult) => void,
  concurrency = 1,
): Promise<OperationResult[]> {
  const results: OperationResult[] = new Array<OperationResult>(operations.length);
  await runPool(operations, concurrency, async (operation, index) => {
    const started = performance.now();
    const outcome = await withRetry(policy, async () => {
      for (const sql of operation.statements) await runStatement(sql);
    });
    const result: OperationResult = {
      operationId: operation.id,
      outcome: outcome.error === undefined ? 'succeeded' : 'failed',
      durationMs: performance.now() - started,
      attempts: outcome.attempts,
      ...(outcome.error === undefined ? {} : { error: errorMessage(outcome.error) }),
    };
    results[index] = result;
    onResult?.(result);
  });
  return results;
}
