import { closeSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MetaformError } from './errors.js';
import type { ChangeAction, OperationOutcome, Property } from './model.js';

/**
 * The run journal: one JSON Lines file per apply in `<state>/runs/`, written as the run goes
 * (append-only, flushed at least once per batch of results), so that a run killed in the middle
 * still leaves a readable record of every operation that completed.
 *
 *   {"type":"run", ...header}              first line
 *   {"type":"skipped", ...}                one per change the plan could not apply
 *   {"type":"operation", ...}              one per operation, when its outcome is final
 *   {"type":"end", ...}                    last line, absent when the run was killed
 */

/** One operation as the journal keeps it: what ran, on what, and how it went. */
export interface JournalOperation {
  id: string;
  service: string;
  database: string;
  statements: string[];
  changes: { id: string; address: string; property: Property; key?: string; action: ChangeAction; before: string | null; after: string | null }[];
  outcome: OperationOutcome;
  error?: string;
  durationMs: number;
  attempts: number;
}

export interface JournalSkipped {
  id: string;
  address: string;
  reason: string;
}

export interface JournalSummary {
  succeeded: number;
  failed: number;
  notRun: number;
  skipped: number;
}

export interface JournalHeader {
  id: string;
  command: 'apply';
  startedAt: string;
  planCreatedAt: string;
  git?: { commit?: string; dirty?: boolean };
  pid: number;
  host: string;
  /** What the plan holds: an interrupted run's record says how much of it is missing. */
  planned: { operations: number; changes: number };
}

export interface JournalEnd {
  finishedAt: string;
  summary: JournalSummary;
  /** The signal that stopped the run early. */
  interrupted?: 'SIGINT' | 'SIGTERM';
}

/** complete: the run finished; interrupted: stopped by a signal; killed: no end line (killed, crashed, or still running). */
export type RunState = 'complete' | 'interrupted' | 'killed' | 'running';

export interface JournalRun extends JournalHeader {
  state: RunState;
  finishedAt?: string;
  interrupted?: JournalEnd['interrupted'];
  operations: JournalOperation[];
  skipped: JournalSkipped[];
  summary: JournalSummary;
  /** Lines that could not be read (a run killed mid-write leaves a partial last line). */
  unreadableLines: number;
}

const RUNS = 'runs';
/** Buffered lines are written at the latest when they reach this size. */
const FLUSH_BYTES = 1 << 20;

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
}

/** The journal could not be written (a full disk, a file too large): what the run lost. */
export interface JournalWriteFailure {
  path: string;
  cause: string;
  /** Operations committed at the source whose lines never reached the file. */
  unjournaled: JournalOperation[];
}

/** A line waiting to be written, with the operation it records (if any). */
interface PendingLine {
  text: string;
  operation?: JournalOperation;
}

/**
 * Appends a run's lines. Writes are synchronous: a line handed to the kernel survives kill -9, and
 * lines added in one turn of the event loop (a committed batch) are written together.
 */
export class JournalWriter {
  private buffer: PendingLine[] = [];
  private bytes = 0;
  private scheduled = false;
  private closed = false;
  private failure: JournalWriteFailure | undefined;
  private readonly summary: JournalSummary = { succeeded: 0, failed: 0, notRun: 0, skipped: 0 };

  private constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly onFailure: (failure: JournalWriteFailure) => void,
  ) {}

  /**
   * Creates `<state>/runs/<id>.jsonl` and writes its header; a folder or file that cannot be
   * created is an error naming the path. `onFailure` hears the first write that fails later.
   */
  static open(stateDir: string, header: Omit<JournalHeader, 'pid' | 'host'>, onFailure: (failure: JournalWriteFailure) => void = () => undefined): JournalWriter {
    const dir = join(stateDir, RUNS);
    const path = join(dir, `${header.id}.jsonl`);
    let fd: number;
    try {
      mkdirSync(dir, { recursive: true });
      fd = openSync(path, 'a');
    } catch (error) {
      throw new MetaformError(`cannot create the run journal ${path}: ${errnoMessage(error)}; nothing was applied`, undefined, 'make the state folder writable, or set `state:` in metaform.yaml to a writable folder');
    }
    const writer = new JournalWriter(path, fd, onFailure);
    writer.line({ type: 'run', ...header, pid: process.pid, host: hostname() });
    writer.flush();
    if (writer.failure) {
      closeSync(fd);
      throw new MetaformError(`cannot write the run journal ${path}: ${writer.failure.cause}; nothing was applied`, undefined, 'free space on its disk, or set `state:` in metaform.yaml to another folder');
    }
    // process.exit() (a second Ctrl-C) still writes what is buffered.
    process.on('exit', writer.flushOnExit);
    return writer;
  }

  private readonly flushOnExit = (): void => this.flush();

  skipped(skip: JournalSkipped): void {
    this.summary.skipped++;
    this.line({ type: 'skipped', ...skip });
  }

  operation(operation: JournalOperation): void {
    this.summary[operation.outcome === 'not-run' ? 'notRun' : operation.outcome]++;
    this.line({ type: 'operation', ...operation }, operation);
  }

  counts(): JournalSummary {
    return { ...this.summary };
  }

  /** The write that failed, and every committed operation the file lacks since; undefined while all is written. */
  writeFailure(): JournalWriteFailure | undefined {
    return this.failure;
  }

  private line(value: object, operation?: JournalOperation): void {
    if (this.closed) return;
    if (this.failure) {
      if (operation?.outcome === 'succeeded') this.failure.unjournaled.push(operation);
      return;
    }
    const text = `${JSON.stringify(value)}\n`;
    this.buffer.push(operation ? { text, operation } : { text });
    this.bytes += text.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /**
   * Hands every buffered line to the kernel. A write that fails (ENOSPC, EFBIG, EIO) is not
   * thrown from here (this runs from setImmediate): the writer stops writing, keeps the lines
   * that did not reach the file, and tells onFailure, so that the run starts nothing new.
   */
  flush(): void {
    this.scheduled = false;
    if (this.buffer.length === 0 || this.closed || this.failure) return;
    const pending = this.buffer;
    const data = Buffer.from(pending.map((line) => line.text).join(''));
    this.buffer = [];
    this.bytes = 0;
    let written = 0;
    try {
      while (written < data.length) written += writeSync(this.fd, data, written);
    } catch (error) {
      // Lines wholly before the failing byte are in the file; a line cut short is not readable.
      const unjournaled: JournalOperation[] = [];
      let offset = 0;
      for (const line of pending) {
        offset += Buffer.byteLength(line.text);
        if (offset > written && line.operation?.outcome === 'succeeded') unjournaled.push(line.operation);
      }
      this.failure = { path: this.path, cause: errnoMessage(error), unjournaled };
      this.onFailure(this.failure);
    }
  }

  /** Writes the end line and closes the file (synced to disk); after a failed write, only closes it. */
  close(end: Omit<JournalEnd, 'summary'>): JournalSummary {
    const summary = this.counts();
    this.line({ type: 'end', ...end, summary });
    this.flush();
    this.closed = true;
    process.off('exit', this.flushOnExit);
    try {
      if (!this.failure) fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
    return summary;
  }
}

function errnoMessage(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  return code && !message.startsWith(code) ? `${code}: ${message}` : String(message ?? error);
}

export interface UnreadableRun {
  name: string;
  reason: string;
}

export interface JournalListing {
  runs: JournalRun[];
  /** Run files that could not be read at all: named, never hiding the good ones. */
  unreadable: UnreadableRun[];
}

/** The most recent runs, newest first. */
export async function readRuns(stateDir: string, limit: number): Promise<JournalListing> {
  const dir = join(stateDir, RUNS);
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const listing: JournalListing = { runs: [], unreadable: [] };
  // `<run id>.catalog.jsonl` holds a run's catalog writes (the CLI's push), not a run.
  const candidates = names.filter((name) => (name.endsWith('.jsonl') || name.endsWith('.json')) && !name.endsWith('.catalog.jsonl')).sort().reverse();
  for (const name of candidates) {
    if (listing.runs.length >= limit) break;
    try {
      listing.runs.push(parseRun(await readFile(join(dir, name), 'utf8')));
    } catch (error) {
      listing.unreadable.push({ name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return listing;
}

function isAlive(pid: number, host: string): boolean {
  if (host !== hostname()) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A run from its file: JSON Lines (this version) or one JSON document (0.1). */
export function parseRun(text: string): JournalRun {
  if (text.startsWith('{') && !text.startsWith('{"type":"run"')) return legacyRun(JSON.parse(text) as Record<string, unknown>);
  const lines = text.split('\n');
  let header: JournalHeader | undefined;
  let end: JournalEnd | undefined;
  const operations: JournalOperation[] = [];
  const skipped: JournalSkipped[] = [];
  let unreadableLines = 0;
  for (const line of lines) {
    if (line === '') continue;
    let entry: { type?: unknown } & Record<string, unknown>;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      unreadableLines++;
      continue;
    }
    const { type, ...rest } = entry;
    if (type === 'run') header = rest as unknown as JournalHeader;
    else if (type === 'operation') operations.push(rest as unknown as JournalOperation);
    else if (type === 'skipped') skipped.push(rest as unknown as JournalSkipped);
    else if (type === 'end') end = rest as unknown as JournalEnd;
    else unreadableLines++;
  }
  if (!header || typeof header.id !== 'string' || typeof header.startedAt !== 'string') throw new Error('no run header: not a metaform journal, or cut short before its first line');
  // A header from elsewhere (edited by hand, another tool) is named and skipped, not a crash.
  if (typeof header.planned?.operations !== 'number' || typeof header.planned.changes !== 'number')
    throw new Error('its run header has no "planned" counts: not written by this metaform');
  const counted: JournalSummary = { succeeded: 0, failed: 0, notRun: 0, skipped: skipped.length };
  for (const operation of operations) counted[operation.outcome === 'not-run' ? 'notRun' : operation.outcome]++;
  const state: RunState = end ? (end.interrupted ? 'interrupted' : 'complete') : isAlive(header.pid, header.host) ? 'running' : 'killed';
  return {
    ...header,
    state,
    ...(end ? { finishedAt: end.finishedAt } : {}),
    ...(end?.interrupted ? { interrupted: end.interrupted } : {}),
    operations,
    skipped,
    summary: end?.summary ?? counted,
    unreadableLines,
  };
}

function legacyRun(raw: Record<string, unknown>): JournalRun {
  const run = raw as unknown as Omit<JournalRun, 'state' | 'pid' | 'host' | 'planned' | 'unreadableLines'>;
  if (typeof run.id !== 'string' || !Array.isArray(run.operations)) throw new Error('not a metaform journal');
  return { ...run, pid: 0, host: '', planned: { operations: run.operations.length, changes: 0 }, state: 'complete', unreadableLines: 0 };
}
