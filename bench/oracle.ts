import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import oracledb from 'oracledb';
import type { OracleEngine } from '../test/emulators/oracle/engine.js';
import { startOracleEmulator, type OracleEmulator } from '../test/emulators/oracle/server.js';
import type { BenchOptions, BenchResult } from './types.js';
import { benchResult, columnName, expectLanded, reworded, round, runChild, tableName, twoLevelDesiredState, writeProject, type StepResult } from './support.js';

const OWNER = 'SALES';

/** Throws unless every planned comment landed, byte for byte in the last table and column. */
function verify(engine: OracleEngine, options: BenchOptions, word: string, after: string): string {
  let tables = 0;
  let columns = 0;
  for (const object of engine.objects.values()) {
    if (object.owner !== OWNER) continue;
    if (object.comment?.includes(word)) tables++;
    for (const column of object.columns) if (column.comment?.includes(word)) columns++;
  }
  const last = Math.min(options.changes, options.tables) - 1;
  const columnTables = options.columnTables ?? 0;
  const tableText = last < 0 ? '' : (engine.objects.get(`"${OWNER}"."${tableName(last).toUpperCase()}"`)?.comment ?? '');
  const lastColumn = engine.objects.get(`"${OWNER}"."${tableName(columnTables - 1).toUpperCase()}"`)?.columns.find((c) => c.name === columnName(options.columnsPerTable - 1).toUpperCase());
  return expectLanded({ tables, columns, notInt: 0, tableText, columnText: columnTables < 1 ? '' : (lastColumn?.comment ?? '') }, options, columnTables, word, after);
}

async function baselineRead(emulator: OracleEmulator): Promise<number> {
  const connection = await oracledb.getConnection(emulator.connection);
  try {
    const started = performance.now();
    for (const sql of [
      'SELECT owner, table_name, table_type, comments FROM all_tab_comments WHERE owner IN (:1)',
      'SELECT owner, mview_name, comments FROM all_mview_comments WHERE owner IN (:1)',
      'SELECT owner, table_name, column_name, comments FROM all_col_comments WHERE owner IN (:1)',
    ])
      await connection.execute(sql, [OWNER], { fetchArraySize: 10_000 });
    return performance.now() - started;
  } finally {
    await connection.close();
  }
}

async function baselineApply(emulator: OracleEmulator, statements: string[]): Promise<number> {
  const connection = await oracledb.getConnection(emulator.connection);
  try {
    const started = performance.now();
    for (const sql of statements) await connection.execute(sql);
    return performance.now() - started;
  } finally {
    await connection.close();
  }
}

export async function benchOracle(options: BenchOptions): Promise<BenchResult> {
  const buildStarted = performance.now();
  const emulator = await startOracleEmulator({ users: { [OWNER]: 'secret' } });
  // The catalog straight into the emulator's state: 10,000 CREATE TABLEs would time the fixture.
  for (let i = 0; i < options.tables; i++) {
    const name = tableName(i).toUpperCase();
    const columns = Array.from({ length: options.columnsPerTable }, (_, c) => ({ name: columnName(c).toUpperCase(), comment: null }));
    emulator.engine.objects.set(`"${OWNER}"."${name}"`, { owner: OWNER, name, kind: 'TABLE', comment: null, mviewComment: null, columns, grants: new Map() });
  }
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-oracle-'));
  try {
    process.stderr.write(`oracle: built ${options.tables} tables x ${options.columnsPerTable} columns in ${round(performance.now() - buildStarted)} ms\n`);
    await writeProject(dir, { type: 'oracle', connection: emulator.connection }, { ...twoLevelDesiredState(OWNER.toLowerCase(), options), database: 'default' });
    const readMs = await baselineRead(emulator);
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    process.stderr.write(`oracle: plan ${JSON.stringify(plan.result)}\n`);
    const statementsFile = join(dir, 'statements.json');
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply', statementsFile]);
    process.stderr.write(`oracle: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    const verified = verify(emulator.engine, options, 'described', 'apply');
    const statements = (JSON.parse(await readFile(statementsFile, 'utf8')) as string[]).map(reworded);
    const applyMs = await baselineApply(emulator, statements);
    verify(emulator.engine, options, 'reworded', 'the client script');
    process.stderr.write(`oracle: verified ${verified} after apply (and the same after the client script), exact text of the last\n`);
    return benchResult(
      'Oracle (Oracle Net emulator, oracle connector through oracledb thin mode)',
      options,
      plan,
      applied,
      { readMs, applyMs },
      'test/emulators/oracle in the bench process over TCP on 127.0.0.1; metaform runs in a child process; queries per plan = 3 per thousand schemas + 1; ' +
        'engine-client baseline = oracledb alone running the same three catalog queries (10,000 rows a fetch, as the connector reads), and the same statements (text changed) one at a time on one connection',
    );
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
