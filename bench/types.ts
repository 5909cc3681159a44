/** One engine's benchmark figures, as `npm run bench` prints them into the README table. */
export interface BenchResult {
  /** The BENCH_ENGINES name (postgres, mysql, clickhouse): results.json is merged on it. */
  id?: string;
  engine: string;
  tables: number;
  columnsPerTable: number;
  /** metaform plan over the whole catalog (read + diff + render), milliseconds. */
  planMs: number;
  /** The part of planMs spent loading and validating the YAML project. */
  loadMs?: number;
  /** Catalog queries the plan issued. */
  catalogQueries: number;
  /** Peak resident memory of the process during the plan, MiB. */
  peakRssMiB: number;
  /** Time the engine's own client takes for the same catalog read, milliseconds. */
  baselineReadMs?: number;
  /** Description changes applied (table and column) and how long metaform's apply took. */
  applyChanges: number;
  /** How many of applyChanges are column descriptions (the rest are table descriptions). */
  columnChanges?: number;
  /** Statements the apply ran (column comments of one table share one statement). */
  applyStatements?: number;
  applyMs: number;
  /** Time the engine's own client takes for the same statements as one script. */
  baselineApplyMs?: number;
  notes?: string;
  /** Where the plan's time goes (cases run through bench/breakdown-child.ts). */
  breakdown?: PlanBreakdown;
}

export interface BenchOptions {
  tables: number;
  columnsPerTable: number;
  /** Tables whose description changes. */
  changes: number;
  /** Tables all of whose column descriptions change too (engines that bench column comments). */
  columnTables?: number;
}

/** What bench/breakdown-child.ts prints: the plan's time piece by piece, and the apply. */
export interface BreakdownResult {
  /** YAML loading + catalog read + diff + render + report output. */
  planMs: number;
  loadMs: number;
  readMs: number;
  diffMs: number;
  renderMs: number;
  /** The text report, streamed to a file. */
  reportMs: number;
  /** The plan saved as JSON (as `plan --out`). */
  planFileMs: number;
  reportBytes: number;
  planBytes: number;
  applyMs: number;
  queries: number;
  changes: number;
  operations: number;
  statements: number;
  skipped: number;
  failed: number;
  firstError?: string;
  /** Peak RSS (MiB) by the end of each piece: load, read, diff, render, report, planFile. */
  peakRssMiBAfter: Record<string, number>;
  maxRssKiB: number;
}

/** The plan's time by piece, milliseconds (cases that measure it). */
export interface PlanBreakdown {
  loadMs: number;
  readMs: number;
  diffMs: number;
  renderMs: number;
  reportMs: number;
  planFileMs: number;
  /** Size of the text report and of the saved plan, bytes. */
  reportBytes: number;
  planBytes: number;
  /** Peak RSS (MiB) of the plan process by the end of each piece. */
  peakRssMiBAfter: Record<string, number>;
}
