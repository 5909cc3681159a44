import type { Operation, OperationResult } from '../../core/model.js';
import { runPool } from '../../core/pool.js';

export interface RetryPolicy {
  /** Attempts per operation, the first included. */
  attempts: number;
  /** Delay before the second attempt; doubles each time. */
  backoffMs: number;
  isTransient(error: unknown): boolean;
  /** How long the server asked to wait (an HTTP Retry-After), in ms: waited instead of a shorter backoff. */
  retryAfterMs?(error: unknown): number | undefined;
  /**
   * The server cannot be reached at all (refused, host gone, connection not re-established):
   * once an operation ends so, the others would too, so they are not tried.
   */
  isUnreachable?(error: unknown): boolean;
}

/**
 * The session cannot run anything more (e.g. it lost its apply lock with its connection): the
 * operation that found out fails with this message, the rest are not run.
 */
export class CannotContinue extends Error {
  override name = 'CannotContinue';
}

export const NO_RETRY: RetryPolicy = { attempts: 1, backoffMs: 0, isTransient: () => false };

/** Messages are one statement of what went wrong: clients append stack traces that say where. */
const STACK_START = /\n(?:\s*Stack trace:|\s+at\s|\s*\d+\.\s+\S+.*\bin\s\/)/;

export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    const stack = STACK_START.exec(error.message);
    const message = stack ? error.message.slice(0, stack.index).trimEnd() : error.message;
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
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
      await sleep(Math.max(policy.backoffMs * 2 ** (attempt - 1), policy.retryAfterMs?.(error) ?? 0));
    }
  }
}

/** Runs `work` as withRetry does, and throws the last error when every attempt failed. */
export async function retried<T>(policy: RetryPolicy, work: () => Promise<T>): Promise<T> {
  const outcome = await withRetry(policy, work);
  if (outcome.error !== undefined) throw outcome.error;
  return outcome.value as T;
}

/** An HTTP Retry-After value (seconds, or an HTTP date) in ms; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export interface RunOptions {
  /** Hears each operation's result as soon as it is known, the ones not run included. */
  onResult?: (result: OperationResult) => void;
  /** Operations in flight at once (default 1). */
  concurrency?: number;
  /** See ExecuteRequest.signal. */
  signal?: AbortSignal;
  /** The server, for the message of operations not run when it is unreachable ("ClickHouse at http://host:8123"). */
  target?: string;
}

/**
 * Runs operations, each statement of an operation in order, for engines without transactional
 * DDL: one at a time, or up to `concurrency` at once where the engine runs independent ALTERs side
 * by side. A failed operation is reported and the others still run, unless the server is
 * unreachable or the signal aborted: then nothing more starts and the rest are reported not-run.
 * Results come back in the operations' order; `onResult` hears each as soon as it is known.
 */
export async function runEachOperation(
  operations: readonly Operation[],
  runStatement: (sql: string) => Promise<unknown>,
  policy: RetryPolicy,
  options: RunOptions = {},
): Promise<OperationResult[]> {
  const results: OperationResult[] = new Array<OperationResult>(operations.length);
  const stop = new AbortController();
  let stopReason = 'interrupted';
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const report = (index: number, result: OperationResult) => {
    results[index] = result;
    options.onResult?.(result);
  };
  await runPool(
    operations,
    options.concurrency ?? 1,
    async (operation, index) => {
      const started = performance.now();
      const outcome = await withRetry(policy, async () => {
        for (const sql of operation.statements) await runStatement(sql);
      });
      if (outcome.error !== undefined && !stop.signal.aborted) {
        if (outcome.error instanceof CannotContinue) {
          stopReason = `not run: ${outcome.error.message}`;
          stop.abort();
        } else if (policy.isUnreachable?.(outcome.error)) {
          stopReason = `not run: ${options.target ?? 'the server'} is unreachable (${errorMessage(outcome.error)})`;
          stop.abort();
        }
      }
      report(index, {
        operationId: operation.id,
        outcome: outcome.error === undefined ? 'succeeded' : 'failed',
        durationMs: performance.now() - started,
        attempts: outcome.attempts,
        ...(outcome.error === undefined ? {} : { error: errorMessage(outcome.error) }),
      });
    },
    signal,
  );
  for (let index = 0; index < operations.length; index++)
    if (results[index] === undefined)
      report(index, { operationId: (operations[index] as Operation).id, outcome: 'not-run', error: stopReason, durationMs: 0, attempts: 0 });
  return results;
}
