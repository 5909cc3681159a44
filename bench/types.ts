/** One engine's benchmark figures, as `npm run bench` prints them into the README table. */
export interface BenchResult {
  engine: string;
  tables: number;
  columnsPerTable: number;
  /** metaform plan over the whole catalog (read + diff + render), milliseconds. */
  planMs: number;
  /** Catalog queries the plan issued. */
  catalogQueries: number;
  /** Peak resident memory of the process during the plan, MiB. */
  peakRssMiB: number;
  /** Time the engine's own client takes for the same catalog read, milliseconds. */
  baselineReadMs?: number;
  /** Description changes applied and how long metaform's apply took. */
  applyChanges: number;
  applyMs: number;
  /** Time the engine's own client takes for the same statements as one script. */
  baselineApplyMs?: number;
  notes?: string;
}

export interface BenchOptions {
  tables: number;
  columnsPerTable: number;
  changes: number;
}
