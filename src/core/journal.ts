import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangeAction, OperationOutcome, Property } from './model.js';

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

export interface JournalRun {
  id: string;
  command: 'apply';
  startedAt: string;
  finishedAt: string;
  planCreatedAt: string;
  git?: { commit?: string; dirty?: boolean };
  operations: JournalOperation[];
  /** Changes the plan could not apply, with the reason (they stay pending). */
  skipped: { id: string; address: string; reason: string }[];
  summary: { succeeded: number; failed: number; notRun: number; skipped: number };
}

const RUNS = 'runs';

export function newRunId(now = new Date()): string {
  return `${now.toISOString().replace(/[:.]/g, '-')}-${process.pid}`;
}

/** Written to a temporary name and renamed, so a crash never leaves a half-written run. */
export async function writeRun(stateDir: string, run: JournalRun): Promise<string> {
  const dir = join(stateDir, RUNS);
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${run.id}.json`);
  await writeFile(`${path}.tmp`, `${JSON.stringify(run, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
  return path;
}

/** The most recent runs, newest first. */
export async function readRuns(stateDir: string, limit: number): Promise<JournalRun[]> {
  const dir = join(stateDir, RUNS);
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const recent = names.filter((name) => name.endsWith('.json')).sort().reverse().slice(0, limit);
  return Promise.all(recent.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8')) as JournalRun));
}
