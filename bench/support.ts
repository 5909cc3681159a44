import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { BenchOptions, BenchResult } from './types.js';

export interface ChildMeasure<T> {
  result: T;
  /** Peak resident memory of the child, MiB. */
  maxRssMiB: number;
}

/**
 * Runs a bench step in its own Node process, so its peak memory is its own and not the
 * catalog builder's. The child prints one JSON line: its result.
 */
export function runChild<T>(script: string, args: string[]): Promise<ChildMeasure<T>> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}`));
      const last = out.trim().split('\n').pop() ?? '{}';
      const parsed = JSON.parse(last) as T & { maxRssKiB: number };
      resolve({ result: parsed, maxRssMiB: parsed.maxRssKiB / 1024 });
    });
  });
}

/** Wall time of a command, milliseconds (it must exit 0). */
export function timeCommand(command: string, args: string[], input?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'inherit'] });
    if (input !== undefined) child.stdin?.end(input);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} exited ${code}`))));
  });
}

export const round = (value: number) => Math.round(value);

/** What bench/pipeline-child.ts prints. */
export interface StepResult {
  planMs: number;
  loadMs: number;
  applyMs: number;
  queries: number;
  changes: number;
  columnChanges: number;
  operations: number;
  skipped: number;
  failed: number;
  firstError?: string;
}

/** One engine's figures from the plan and apply children and the engine client's timings. */
export function benchResult(
  engine: string,
  options: BenchOptions,
  plan: ChildMeasure<StepResult>,
  applied: ChildMeasure<StepResult>,
  baseline: { readMs: number; applyMs: number },
  notes: string,
): BenchResult {
  return {
    engine,
    tables: options.tables,
    columnsPerTable: options.columnsPerTable,
    planMs: round(plan.result.planMs),
    loadMs: round(plan.result.loadMs),
    catalogQueries: plan.result.queries,
    peakRssMiB: round(plan.maxRssMiB),
    baselineReadMs: round(baseline.readMs),
    applyChanges: applied.result.changes,
    ...(applied.result.columnChanges ? { columnChanges: applied.result.columnChanges, applyStatements: applied.result.operations } : {}),
    applyMs: round(applied.result.applyMs),
    baselineApplyMs: round(baseline.applyMs),
    notes,
  };
}

export const tableName = (i: number) => `t${String(i).padStart(5, '0')}`;
export const columnName = (c: number) => `c${String(c).padStart(2, '0')}`;

/**
 * The word every bench description carries once. The engine client's baseline runs the plan's
 * statements with it replaced (see reworded), so that it changes every comment again, as the
 * apply did, instead of writing the same text twice.
 */
const MARK = 'described';
export const reworded = (statement: string) => statement.replaceAll(MARK, 'reworded');
export const tableDescription = (i: number) => `Table ${i}: it's ${MARK} \\ with "quotes"`;
export const columnDescription = (i: number, c: number) => `Column ${c} of table ${i}: it's ${MARK} \\ "too"`;

/** What a two-level bench found in the catalog after an apply (see expectLanded). */
export interface Landed {
  tables: number;
  columns: number;
  notInt: number;
  tableText: string;
  columnText: string;
}

/**
 * Throws unless the comments carrying `word` are exactly those planned (the first `changes`
 * tables, every column of the first `columnTables`), the last of each byte for byte, and no
 * column changed type. Returns a summary line.
 */
export function expectLanded(found: Landed, options: BenchOptions, columnTables: number, word: string, after: string): string {
  const lastTable = Math.min(options.changes, options.tables) - 1;
  const expected: Landed = {
    tables: lastTable + 1,
    columns: columnTables * options.columnsPerTable,
    notInt: 0,
    tableText: lastTable < 0 ? '' : tableDescription(lastTable).replaceAll(MARK, word),
    columnText: columnTables < 1 ? '' : columnDescription(columnTables - 1, options.columnsPerTable - 1).replaceAll(MARK, word),
  };
  if (JSON.stringify(found) !== JSON.stringify(expected)) throw new Error(`after ${after}: found ${JSON.stringify(found)}, expected ${JSON.stringify(expected)}`);
  return `${found.tables} table and ${found.columns} column comments`;
}

/**
 * The YAML of a two-level engine (MySQL, ClickHouse): tables t00000.. with columns c00.. in one
 * engine database, every table listed; the first `changes` tables get a description and the first
 * `columnTables` a description on every column. Quotes and backslashes exercise the escaping.
 */
export function twoLevelDesiredState(schema: string, options: BenchOptions): object {
  const tables: Record<string, object | string | null> = {};
  const columnTables = options.columnTables ?? 0;
  for (let i = 0; i < options.tables; i++) {
    const description = i < options.changes ? tableDescription(i) : null;
    if (i >= columnTables) {
      tables[tableName(i)] = description;
      continue;
    }
    const columns = Object.fromEntries(
      Array.from({ length: options.columnsPerTable }, (_, c) => [columnName(c), columnDescription(i, c)]),
    );
    tables[tableName(i)] = description === null ? { columns } : { description, columns };
  }
  return { service: 'bench', database: 'default', schemas: { [schema]: { tables } } };
}

/** Writes metaform.yaml (one service called bench) and metadata/bench.yaml into dir. */
export async function writeProject(dir: string, service: object, desired: object): Promise<void> {
  await mkdir(join(dir, 'metadata'), { recursive: true });
  await writeFile(join(dir, 'metaform.yaml'), stringify({ version: 1, services: { bench: service } }));
  await writeFile(join(dir, 'metadata', 'bench.yaml'), stringify(desired));
}
