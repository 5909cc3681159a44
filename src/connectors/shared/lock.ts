import { MetaformError } from '../../core/errors.js';

const POLL_MS = 250;

/**
 * Takes an apply lock by polling a non-blocking attempt until it succeeds or `timeoutMs` passed
 * (engines whose lock functions either return at once or block the connection).
 */
export async function pollApplyLock(tryLock: () => Promise<boolean>, where: { service: string; database: string; timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + where.timeoutMs;
  while (!(await tryLock())) {
    if (Date.now() >= deadline)
      throw new MetaformError(
        `service ${where.service}: another metaform apply holds the lock on database ${where.database} (waited ${Math.round(where.timeoutMs / 1000)} s)`,
        undefined,
        'let it finish, then plan again: what it applied may change this plan',
      );
    await new Promise<void>((resolve) => setTimeout(resolve, POLL_MS));
  }
}
