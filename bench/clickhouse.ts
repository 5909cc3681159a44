import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLICKHOUSE_VERSION_SQL, clickhouseCatalogQueries } from '../src/connectors/clickhouse/catalog.js';
import { clickhouseDialect } from '../src/connectors/clickhouse/dialect.js';
import { chdbUnavailable, startChdbServer, type ChdbServer } from '../test/support/chdb-server.js';
import type { BenchOptions, BenchResult } from './types.js';
import { benchResult, columnName, expectLanded, reworded, round, runChild, tableName, twoLevelDesiredState, writeProject, type StepResult } from './support.js';

const DATABASE = 'bench';

/**
 * Table engine of the bench tables (BENCH_CLICKHOUSE_ENGINE=MergeTree to change it). Memory by
 * default: chDB keeps background work going for every MergeTree table (about half a core for
 * 5,000 idle tables on this machine), which competes with the measured processes on 2 cores.
 * Comments are table metadata either way.
 */
const ENGINE = process.env['BENCH_CLICKHOUSE_ENGINE'] ?? 'Memory';
const engineClause = (engine: string) => (engine === 'MergeTree' ? 'MergeTree ORDER BY tuple()' : engine);

/** Tables t00000.. with Int32 columns c00.., created one by one on the chDB session (not measured). */
function buildCatalog(server: ChdbServer, options: BenchOptions): void {
  const columns = Array.from({ length: options.columnsPerTable }, (_, c) => `${columnName(c)} Int32`).join(', ');
  server.query(`CREATE DATABASE ${DATABASE}`);
  for (let i = 0; i < options.tables; i++) server.query(`CREATE TABLE ${DATABASE}.${tableName(i)} (${columns}) ENGINE = ${engineClause(ENGINE)}`);
}

/** Throws unless every planned comment landed, byte for byte in the samples (the last table and column), and no column changed type. */
function verify(server: ChdbServer, options: BenchOptions, columnTables: number, word: string, after: string): string {
  const value = (sql: string) => (JSON.parse(server.query(sql).trim() || '[null]') as [unknown])[0];
  const literal = clickhouseDialect.quoteLiteral;
  const lastTable = Math.min(options.changes, options.tables) - 1;
  const lastColumn = columnName(options.columnsPerTable - 1);
  const found = {
    tables: Number(value(`SELECT count() FROM system.tables WHERE database = '${DATABASE}' AND comment LIKE ${literal(`%${word}%`)}`)),
    columns: Number(value(`SELECT count() FROM system.columns WHERE database = '${DATABASE}' AND comment LIKE ${literal(`%${word}%`)}`)),
    notInt: Number(value(`SELECT count() FROM system.columns WHERE database = '${DATABASE}' AND type != 'Int32'`)),
    tableText: lastTable < 0 ? '' : String(value(`SELECT comment FROM system.tables WHERE database = '${DATABASE}' AND name = '${tableName(lastTable)}'`)),
    columnText:
      columnTables < 1
        ? ''
        : String(value(`SELECT comment FROM system.columns WHERE database = '${DATABASE}' AND table = '${tableName(columnTables - 1)}' AND name = '${lastColumn}'`)),
  };
  return expectLanded(found, options, columnTables, word, after);
}

const timed = (work: () => void) => {
  const started = performance.now();
  work();
  return performance.now() - started;
};

export async function benchClickhouse(options: BenchOptions): Promise<BenchResult> {
  const unavailable = chdbUnavailable();
  if (unavailable) throw new Error(unavailable);
  const server = await startChdbServer();
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-clickhouse-'));
  try {
    const [version] = JSON.parse(server.query(CLICKHOUSE_VERSION_SQL).trim()) as [string];
    const buildStarted = performance.now();
    buildCatalog(server, options);
    process.stderr.write(`clickhouse: built ${options.tables} tables x ${options.columnsPerTable} columns in ${round(performance.now() - buildStarted)} ms\n`);
    const columnTables = Math.min(options.columnTables ?? 0, options.tables);
    await writeProject(dir, { type: 'clickhouse', connection: { url: server.url } }, twoLevelDesiredState(DATABASE, { ...options, columnTables }));

    // Baseline read: the same four queries on the chDB session itself, in the format the client asks for.
    const catalog = clickhouseCatalogQueries([DATABASE]);
    const readCatalog = () => {
      for (const sql of [CLICKHOUSE_VERSION_SQL, catalog.databases, catalog.tables, catalog.columns]) server.query(sql, 'JSONCompactEachRow');
    };
    readCatalog(); // warm once
    const baselineReadMs = timed(readCatalog);
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    process.stderr.write(`clickhouse: plan ${JSON.stringify(plan.result)}\n`);

    // Apply: metaform over HTTP, then the same statements straight on the session.
    const statementsFile = join(dir, 'statements.json');
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply', statementsFile]);
    process.stderr.write(`clickhouse: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    if (applied.result.skipped) throw new Error(`${applied.result.skipped} changes skipped`);
    const verified = verify(server, options, columnTables, 'described', 'apply');
    const statements = (JSON.parse(await readFile(statementsFile, 'utf8')) as string[]).map(reworded);
    const baselineApplyMs = timed(() => {
      for (const sql of statements) server.query(sql, 'TabSeparated');
    });
    verify(server, options, columnTables, 'reworded', 'the session script');
    process.stderr.write(`clickhouse: verified ${verified} after apply (and the same after the session script), exact text of the last of each, column types intact\n`);

    const baseline = { readMs: baselineReadMs, applyMs: baselineApplyMs };
    return benchResult(`ClickHouse ${version} (chDB, clickhouse connector over HTTP)`, options, plan, applied, baseline, `${ENGINE} tables in chDB (the ClickHouse engine in-process); metaform runs @clickhouse/client over HTTP against test/support/chdb-server.ts in the bench process; ` +
        'engine-client baseline = the same 4 catalog queries and the same ALTER statements (comment text changed) run directly on the chDB Session: in-process, no HTTP, no client; ' +
        'plan includes loading and validating the YAML; @clickhouse/client waits a setTimeout(0) (at least 1 ms) before every request');
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}
