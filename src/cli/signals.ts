/**
 * Ctrl-C and SIGTERM. By default they restore the terminal and exit 130 / 143 at once (reading a
 * catalog or printing a plan changes nothing). A command with work that must end cleanly (apply)
 * takes them over with `interruptible`: the first signal asks it to stop, a second one exits.
 */
export type StopSignal = 'SIGINT' | 'SIGTERM';

export const SIGNAL_EXIT: Record<StopSignal, number> = { SIGINT: 130, SIGTERM: 143 };

/** Shows the cursor and turns line wrapping back on, in case a progress bar had changed them. */
export function restoreTerminal(): void {
  if (process.stderr.isTTY) process.stderr.write('\x1b[?25h\x1b[?7h');
}

type Handler = (signal: StopSignal) => void;

let current: Handler | undefined;

function exitNow(signal: StopSignal): never {
  restoreTerminal();
  process.exit(SIGNAL_EXIT[signal]);
}

export function installSignalHandlers(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => (current ? current(signal) : exitNow(signal)));
}

export interface Interruption {
  readonly signal: AbortSignal;
  /** The first signal received, if any. */
  received(): StopSignal | undefined;
  /** Gives the signals back to the default handling. */
  release(): void;
}

/**
 * While held, the first SIGINT/SIGTERM aborts `signal` and calls `onFirst`; a second one exits at
 * once (after `onForce`, which must be synchronous: it is the last chance to write anything).
 */
export function interruptible(onFirst: (signal: StopSignal) => void, onForce: () => void = () => undefined): Interruption {
  const controller = new AbortController();
  let first: StopSignal | undefined;
  current = (signal) => {
    if (first) {
      onForce();
      exitNow(signal);
    }
    first = signal;
    controller.abort();
    onFirst(signal);
  };
  return {
    signal: controller.signal,
    received: () => first,
    release: () => {
      current = undefined;
    },
  };
}
