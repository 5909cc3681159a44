import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { POSTGRES_CATALOG } from '../src/connectors/postgres/catalog.js';
import { buildCatalog, SCHEMAS, SERVER } from './postgres.js';
import { columnDescription, columnName, reworded, round, runChild, tableName, timeCommand, writeProject } from './support.js';
import type { BenchOptions, BenchResult, BreakdownResult } from './types.js';

/**
 * Every column of every table described in YAML, none at the source: tables * columnsPerTable
 * column comments to add (200,000 by default), one COMMENT ON COLUMN each.
 */
function desiredState(database: string, options: BenchOptions): object {
  const perSchema = Math.ceil(options.tables / SCHEMAS);
  const schemas: Record<string, object> = {};
  for (let s = 0; s < SCHEMAS; s++) {
    const tables: Record<string, object> = {};
    for (let i = 0; i < perSchema; i++) {
      const columns: Record<string, string> = {};
      for (let c = 0; c < options.columnsPerTable; c++) columns[columnName(c)] = columnDescription(s * perSchema + i, c);
      tables[tableName(i)] = { columns };
    }
    schemas[`s${s}`] = { tables };
  }
  return { service: 'bench', database, schemas };
}

/** Throws unless exactly `count` column comments contain `word`. */
async function expectColumnComments(client: pg.Client, word: string, count: number, after: string): Promise<void> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass AND d.objsubid > 0
      WHERE c.relkind = 'r' AND d.description LIKE $1`,
    [`%${word}%`],
  );
  if (Number(rows[0]?.n) !== count) throw new Error(`after ${after}: ${rows[0]?.n} column comments contain "${word}", expected ${count}`);
}

export async function benchPostgresColumns(options: BenchOptions): Promise<BenchResult> {
  const admin = new pg.Client({ ...SERVER, database: 'postgres' });
  await admin.connect();
  const database = `metaform_bench_columns_${process.pid}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-pg-columns-'));
  const client = new pg.Client({ ...SERVER, database });
  const columnComments = Math.ceil(options.tables / SCHEMAS) * SCHEMAS * options.columnsPerTable;
  try {
    await client.connect();
    const buildStarted = performance.now();
    await buildCatalog(client, options);
    process.stderr.write(`postgres-columns: built ${options.tables} tables x ${options.columnsPerTable} columns in ${round(performance.now() - buildStarted)} ms\n`);
    await writeProject(dir, { type: 'postgres', connection: { ...SERVER, database } }, desiredState(database, options));

    const psql = ['-X', '-q', '-A', '-t', '-h', SERVER.host, '-p', String(SERVER.port), '-U', SERVER.user, '-d', database];
    // Baseline read: psql running the same four catalog queries for the same schemas.
    const schemaList = `'{${Array.from({ length: SCHEMAS }, (_, s) => `s${s}`).join(',')}}'`;
    const filter = `n.nspname = ANY(${schemaList})`;
    const catalogScript = [POSTGRES_CATALOG.database, POSTGRES_CATALOG.schemas(filter), POSTGRES_CATALOG.tables(filter), POSTGRES_CATALOG.columns(filter)]
      .map((sql) => `${sql};`)
      .join('\n');
    await timeCommand('psql', [...psql, '-f', '-'], catalogScript); // warm the catalog cache once for both
    const baselineReadMs = await timeCommand('psql', [...psql, '-f', '-'], catalogScript);
    const plan = await runChild<BreakdownResult>('./breakdown-child.ts', [dir, 'plan', dir]);
    if (plan.result.changes !== columnComments) throw new Error(`the plan has ${plan.result.changes} changes, expected ${columnComments}`);

    // Apply: metaform, then psql running the same statements (reworded, so that they change every
    // comment again) in one transaction, sent as one request (`\;` joins them).
    const statementsFile = join(dir, 'statements.json');
    const applied = await runChild<BreakdownResult>('./breakdown-child.ts', [dir, 'apply', dir, statementsFile]);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed: ${applied.result.firstError ?? ''}`);
    await expectColumnComments(client, 'described', columnComments, 'metaform apply');
    const statements = (JSON.parse(await readFile(statementsFile, 'utf8')) as string[]).map(reworded);
    const baselineApplyMs = await timeCommand('psql', [...psql, '-v', 'ON_ERROR_STOP=1', '-1', '-f', '-'], `${statements.join('\\;\n')};\n`);
    await expectColumnComments(client, 'reworded', columnComments, 'the psql script');

    const { result } = plan;
    return {
      engine: 'PostgreSQL (server), every column described',
      tables: options.tables,
      columnsPerTable: options.columnsPerTable,
      planMs: round(result.planMs),
      loadMs: round(result.loadMs),
      catalogQueries: result.queries,
      peakRssMiB: round(plan.maxRssMiB),
      baselineReadMs: round(baselineReadMs),
      applyChanges: applied.result.changes,
      columnChanges: applied.result.changes,
      applyStatements: applied.result.statements,
      applyMs: round(applied.result.applyMs),
      baselineApplyMs: round(baselineApplyMs),
      breakdown: {
        loadMs: round(result.loadMs),
        readMs: round(result.readMs),
        diffMs: round(result.diffMs),
        renderMs: round(result.renderMs),
        reportMs: round(result.reportMs),
        planFileMs: round(result.planFileMs),
        reportBytes: result.reportBytes,
        planBytes: result.planBytes,
        peakRssMiBAfter: result.peakRssMiBAfter,
      },
      notes:
        'plan = YAML loading + catalog read + diff + render + text report to a file + plan file (peak RSS of that process); ' +
        'psql read = the same 4 catalog queries; psql script = the same COMMENT ON COLUMN statements in one transaction and one request; comments checked after each',
    };
  } finally {
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}
