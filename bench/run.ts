/**
 * `npm run bench`: builds large catalogs on each engine and measures plan and apply next to the
 * engine's own client. BENCH_TABLES / BENCH_COLUMNS / BENCH_CHANGES / BENCH_COLUMN_TABLES /
 * BENCH_ENGINES (postgres,postgres-columns,mysql,clickhouse,snowflake,databricks,bigquery; openmetadata runs in
 * bench/openmetadata.ts, after this) override; BENCH_CLICKHOUSE_ENGINE picks the chDB table
 * engine (Memory by default, or MergeTree). bench/results.json keeps the last result
 * of each engine: a run replaces the entries of the engines it ran and keeps the others.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { benchAthena } from './athena.js';
import { benchBigQuery } from './bigquery.js';
import { benchClickhouse } from './clickhouse.js';
import { benchDatabricks } from './databricks.js';
import { benchMysql } from './mysql.js';
import { benchOracle } from './oracle.js';
import { benchPostgres } from './postgres.js';
import { benchPostgresColumns } from './postgres-columns.js';
import { benchSnowflake } from './snowflake.js';
import { benchMssql } from './mssql.js';
import type { BenchOptions, BenchResult } from './types.js';

const numberFromEnv = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const engines: Record<string, (options: BenchOptions) => Promise<BenchResult>> = {
  postgres: (options) => benchPostgres(options),
  'postgres-columns': (options) => benchPostgresColumns(options),
  mysql: (options) => benchMysql(options),
  clickhouse: (options) => benchClickhouse(options),
  snowflake: (options) => benchSnowflake(options),
  databricks: (options) => benchDatabricks(options),
  athena: (options) => benchAthena(options),
  bigquery: (options) => benchBigQuery(options),
  oracle: (options) => benchOracle(options),
  mssql: (options) => benchMssql(options),
};
const defaults: Record<string, BenchOptions> = {
  postgres: { tables: 10_000, columnsPerTable: 20, changes: 10_000 },
  // Every column described in YAML, none at the source: 200,000 column comments to add.
  'postgres-columns': { tables: 10_000, columnsPerTable: 20, changes: 0 },
  // Column comments are the costly path on MySQL (SHOW CREATE TABLE, then MODIFY COLUMN per table).
  mysql: { tables: 5_000, columnsPerTable: 20, changes: 5_000, columnTables: 500 },
  clickhouse: { tables: 5_000, columnsPerTable: 20, changes: 5_000, columnTables: 500 },
  snowflake: { tables: 10_000, columnsPerTable: 20, changes: 2_000, columnTables: 100 },
  databricks: { tables: 10_000, columnsPerTable: 20, changes: 10_000, columnTables: 500 },
  // Table descriptions only: Athena has no column comments metaform can set safely.
  athena: { tables: 10_000, columnsPerTable: 20, changes: 10_000 },
  bigquery: { tables: 10_000, columnsPerTable: 20, changes: 2_000, columnTables: 100 },
  oracle: { tables: 10_000, columnsPerTable: 20, changes: 2_000, columnTables: 100 },
  mssql: { tables: 10_000, columnsPerTable: 20, changes: 2_000, columnTables: 100 },
};

const selected = (process.env['BENCH_ENGINES'] ?? Object.keys(engines).join(',')).split(',').filter((name) => name !== 'openmetadata');
const results: BenchResult[] = [];
for (const name of selected) {
  const run = engines[name];
  const base = defaults[name];
  if (!run || !base) throw new Error(`unknown engine ${name}; known: ${Object.keys(engines).join(', ')}`);
  const options: BenchOptions = {
    tables: numberFromEnv('BENCH_TABLES', base.tables),
    columnsPerTable: numberFromEnv('BENCH_COLUMNS', base.columnsPerTable),
    changes: numberFromEnv('BENCH_CHANGES', base.changes),
    ...(base.columnTables !== undefined ? { columnTables: numberFromEnv('BENCH_COLUMN_TABLES', base.columnTables) } : {}),
  };
  const columnPart = options.columnTables ? `, column changes on ${options.columnTables} tables` : '';
  process.stderr.write(`${name}: ${options.tables} tables x ${options.columnsPerTable} columns, ${options.changes} table changes${columnPart}\n`);
  results.push({ id: name, ...(await run(options)) });
}

const ratio = (a: number, b?: number) => (b ? `${(a / b).toFixed(2)}x` : 'n/a');
const plan = (r: BenchResult) => `${r.planMs} ms${r.loadMs !== undefined ? ` (${r.loadMs} ms loading the YAML)` : ''}`;
const apply = (r: BenchResult) => {
  const parts = r.columnChanges ? ` (${r.applyChanges - r.columnChanges} table + ${r.columnChanges} column)` : '';
  const statements = r.applyStatements !== undefined ? `, ${r.applyStatements} statements,` : '';
  return `${r.applyChanges} changes${parts}${statements} in ${r.applyMs} ms`;
};
const lines = [
  '| engine | catalog | plan | catalog queries | peak RSS | engine client read | plan / read | apply | engine client script | apply / script |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.engine} | ${r.tables} tables x ${r.columnsPerTable} columns | ${plan(r)} | ${r.catalogQueries} | ${r.peakRssMiB} MiB | ${r.baselineReadMs ?? 'n/a'} ms | ${ratio(r.planMs, r.baselineReadMs)} | ${apply(r)} | ${r.baselineApplyMs ?? 'n/a'} ms | ${ratio(r.applyMs, r.baselineApplyMs)} |`,
  ),
];
const kib = (bytes: number) => `${Math.round(bytes / 1024).toLocaleString('en-US')} KiB`;
for (const r of results)
  if (r.breakdown) {
    const b = r.breakdown;
    lines.push(
      '',
      `${r.engine}: plan ${r.planMs} ms = YAML loading ${b.loadMs} ms + catalog read ${b.readMs} ms + diff ${b.diffMs} ms + render ${b.renderMs} ms` +
        ` + text report ${b.reportMs} ms (${kib(b.reportBytes)}) + plan file ${b.planFileMs} ms (${kib(b.planBytes)});` +
        ` peak RSS by the end of each: ${Object.entries(b.peakRssMiBAfter).map(([piece, mib]) => `${piece} ${mib} MiB`).join(', ')}`,
    );
  }
process.stdout.write(`${lines.join('\n')}\n`);

// Merge: entries of engines not run this time stay; older entries without an id match on engine.
const resultsFile = new URL('./results.json', import.meta.url);
const previous = await readFile(resultsFile, 'utf8')
  .then((text) => JSON.parse(text) as BenchResult[])
  .catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  });
const sameEngine = (entry: BenchResult, result: BenchResult) => (entry.id !== undefined ? entry.id === result.id : entry.engine === result.engine);
const merged = previous.map((entry) => results.find((result) => sameEngine(entry, result)) ?? entry);
merged.push(...results.filter((result) => !previous.some((entry) => sameEngine(entry, result))));
await writeFile(resultsFile, `${JSON.stringify(merged, null, 2)}\n`);
