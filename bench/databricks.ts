import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DBSQLClient } from '@databricks/sql';
import { catalogQueries } from '../src/connectors/databricks/catalog.js';
import { EmulatedAccount } from '../test/emulators/databricks/catalog.js';
import { startDatabricksEmulator, type DatabricksEmulator } from '../test/emulators/databricks/server.js';
import type { BenchOptions, BenchResult } from './types.js';
import { benchResult, columnName, expectLanded, reworded, round, runChild, tableName, twoLevelDesiredState, writeProject, type StepResult } from './support.js';

const CATALOG = 'bench';
const SCHEMA = 'sales';

function buildCatalog(account: EmulatedAccount, options: BenchOptions): void {
  account.addPrincipal('admins');
  const schema = account.addSchema(account.addCatalog(CATALOG, { owner: 'admins' }), SCHEMA);
  const columns = Array.from({ length: options.columnsPerTable }, (_, c) => columnName(c));
  for (let i = 0; i < options.tables; i++) account.addTable(schema, tableName(i), columns);
}

/** Throws unless every planned comment landed, byte for byte in the samples. */
function verify(account: EmulatedAccount, options: BenchOptions, columnTables: number, word: string, after: string): string {
  const schema = account.catalogs.get(CATALOG)?.schemas.get(SCHEMA);
  let tables = 0;
  let columns = 0;
  for (const table of schema?.tables.values() ?? []) {
    if (table.comment?.includes(word)) tables++;
    for (const column of table.columns.values()) if (column.comment?.includes(word)) columns++;
  }
  const lastTable = Math.min(options.changes, options.tables) - 1;
  const found = {
    tables,
    columns,
    notInt: 0,
    tableText: lastTable < 0 ? '' : (schema?.tables.get(tableName(lastTable))?.comment ?? ''),
    columnText: columnTables < 1 ? '' : (schema?.tables.get(tableName(columnTables - 1))?.columns.get(columnName(options.columnsPerTable - 1))?.comment ?? ''),
  };
  return expectLanded(found, options, columnTables, word, after);
}

/** The engine client's baseline: @databricks/sql itself, four statements at once as metaform's apply. */
async function withClient<T>(emulator: DatabricksEmulator, work: (run: (sql: string, rows: boolean) => Promise<unknown>) => Promise<T>): Promise<T> {
  const client = new DBSQLClient({ logger: { log: () => undefined } });
  await client.connect({ host: emulator.host, port: emulator.port, path: emulator.path, token: emulator.token, customCaCert: emulator.certificate, telemetryEnabled: false } as Parameters<DBSQLClient['connect']>[0]);
  const session = await client.openSession();
  try {
    return await work(async (sql, rows) => {
      const operation = await session.executeStatement(sql);
      await operation.finished();
      const result = rows ? await operation.fetchAll() : [];
      await operation.close();
      return result;
    });
  } finally {
    await session.close();
    await client.close();
  }
}

export async function benchDatabricks(options: BenchOptions): Promise<BenchResult> {
  const account = new EmulatedAccount();
  const buildStarted = performance.now();
  buildCatalog(account, options);
  const emulator = await startDatabricksEmulator({ account });
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-databricks-'));
  try {
    process.stderr.write(`databricks: built ${options.tables} tables x ${options.columnsPerTable} columns in ${round(performance.now() - buildStarted)} ms\n`);
    const columnTables = Math.min(options.columnTables ?? 0, options.tables);
    const desired = { ...twoLevelDesiredState(SCHEMA, { ...options, columnTables }), database: CATALOG };
    const connection = { host: emulator.host, port: emulator.port, path: emulator.path, token: emulator.token, caCert: emulator.certificate.toString() };
    await writeProject(dir, { type: 'databricks', connection }, desired);

    const baselineReadMs = await withClient(emulator, async (run) => {
      const started = performance.now();
      for (const sql of catalogQueries(CATALOG, [SCHEMA])) await run(sql, true);
      return performance.now() - started;
    });
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    process.stderr.write(`databricks: plan ${JSON.stringify(plan.result)}\n`);

    const statementsFile = join(dir, 'statements.json');
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply', statementsFile]);
    process.stderr.write(`databricks: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    if (applied.result.skipped) throw new Error(`${applied.result.skipped} changes skipped`);
    const verified = verify(account, options, columnTables, 'described', 'apply');
    const statements = (JSON.parse(await readFile(statementsFile, 'utf8')) as string[]).map(reworded);
    const baselineApplyMs = await withClient(emulator, async (run) => {
      const started = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < statements.length) await run(statements[next++] as string, false);
      };
      await Promise.all([worker(), worker(), worker(), worker()]);
      return performance.now() - started;
    });
    verify(account, options, columnTables, 'reworded', 'the client script');
    process.stderr.write(`databricks: verified ${verified} after apply (and the same after the client script), exact text of the last of each\n`);
    return benchResult(
      'Databricks (Thrift emulator, databricks connector through @databricks/sql)',
      options,
      plan,
      applied,
      { readMs: baselineReadMs, applyMs: baselineApplyMs },
      'test/emulators/databricks in the bench process, over HTTPS on 127.0.0.1; metaform runs in a child process; engine-client baseline = @databricks/sql alone running the same 8 information_schema queries, ' +
        'and the same statements (comment text changed) 4 at a time as metaform applies them; a real warehouse answers each statement in tens of milliseconds, so the figures measure metaform and the client, not Databricks',
    );
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
