import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient, GetQueryExecutionCommand, ListDatabasesCommand, StartQueryExecutionCommand, paginateListTableMetadata } from '@aws-sdk/client-athena';
import { AthenaCatalogs } from '../test/emulators/athena/engine.js';
import { startAthenaEmulator, type AthenaEmulator } from '../test/emulators/athena/server.js';
import type { BenchOptions, BenchResult } from './types.js';
import { benchResult, expectLanded, reworded, round, runChild, tableName, twoLevelDesiredState, writeProject, type StepResult } from './support.js';

const CATALOG = 'awsdatacatalog';
const SCHEMA = 'sales';
const CONCURRENCY = 4;

/** Throws unless every planned description landed, byte for byte in the last one. */
function verify(catalogs: AthenaCatalogs, options: BenchOptions, word: string, after: string): string {
  const database = catalogs.database(CATALOG, SCHEMA);
  let tables = 0;
  for (const table of database.tables.values()) if (table.Parameters['comment']?.includes(word)) tables++;
  const lastTable = Math.min(options.changes, options.tables) - 1;
  const tableText = lastTable < 0 ? '' : (database.tables.get(tableName(lastTable))?.Parameters['comment'] ?? '');
  return expectLanded({ tables, columns: 0, notInt: 0, tableText, columnText: '' }, options, 0, word, after);
}

/** The engine client's baseline: @aws-sdk/client-athena alone, as metaform uses it. */
function clientFor(emulator: AthenaEmulator): AthenaClient {
  const { region, endpoint, accessKeyId, secretAccessKey } = emulator.connection;
  return new AthenaClient({ region, endpoint, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
}

async function baselineRead(client: AthenaClient): Promise<number> {
  const started = performance.now();
  await client.send(new ListDatabasesCommand({ CatalogName: CATALOG, MaxResults: 50 }));
  for await (const page of paginateListTableMetadata({ client, pageSize: 50 }, { CatalogName: CATALOG, DatabaseName: SCHEMA })) void page;
  return performance.now() - started;
}

async function baselineApply(client: AthenaClient, emulator: AthenaEmulator, statements: string[]): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < statements.length) {
      const QueryString = statements[next++] as string;
      const { QueryExecutionId } = await client.send(
        new StartQueryExecutionCommand({ QueryString, WorkGroup: 'primary', QueryExecutionContext: { Catalog: CATALOG }, ResultConfiguration: { OutputLocation: emulator.connection.outputLocation } }),
      );
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        const state = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId }))).QueryExecution?.Status?.State;
        if (state === 'SUCCEEDED') break;
        if (state === 'FAILED' || state === 'CANCELLED') throw new Error(`${QueryString}: ${state}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return performance.now() - started;
}

export async function benchAthena(options: BenchOptions): Promise<BenchResult> {
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const buildStarted = performance.now();
  const catalogs = new AthenaCatalogs();
  const database = catalogs.addDatabase(CATALOG, SCHEMA);
  const columns = Array.from({ length: options.columnsPerTable }, (_, c) => ({ Name: `c${String(c).padStart(2, '0')}`, Type: 'string' }));
  for (let i = 0; i < options.tables; i++) catalogs.addTable(database, tableName(i), columns);
  // The final state on the first poll: a real DDL takes about a second, which would measure the waiting.
  const emulator = await startAthenaEmulator({ catalogs, pollsBeforeFinal: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-athena-'));
  const client = clientFor(emulator);
  try {
    process.stderr.write(`athena: built ${options.tables} tables x ${options.columnsPerTable} columns in ${round(performance.now() - buildStarted)} ms\n`);
    const desired = { ...twoLevelDesiredState(SCHEMA, { ...options, columnTables: 0 }), database: CATALOG };
    await writeProject(dir, { type: 'athena', connection: { ...emulator.connection, maxAttempts: 1 }, options: { pollIntervalMs: 1, concurrency: CONCURRENCY } }, desired);

    const readMs = await baselineRead(client);
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    process.stderr.write(`athena: plan ${JSON.stringify(plan.result)}\n`);
    const statementsFile = join(dir, 'statements.json');
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply', statementsFile]);
    process.stderr.write(`athena: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    if (applied.result.skipped) throw new Error(`${applied.result.skipped} changes skipped`);
    const verified = verify(catalogs, options, 'described', 'apply');
    const statements = (JSON.parse(await readFile(statementsFile, 'utf8')) as string[]).map(reworded);
    const applyMs = await baselineApply(client, emulator, statements);
    verify(catalogs, options, 'reworded', 'the client script');
    process.stderr.write(`athena: verified ${verified} after apply (and the same after the client script), exact text of the last\n`);
    return benchResult(
      'Athena (awsJson1_1 emulator, athena connector through @aws-sdk/client-athena)',
      { ...options, columnTables: 0 },
      plan,
      applied,
      { readMs, applyMs },
      'test/emulators/athena in the bench process, over HTTP on 127.0.0.1 with SigV4 checked; metaform runs in a child process; requests per plan = 1 ListDatabases + ceil(tables / 50) ListTableMetadata pages (50 is the API maximum), ' +
        'so they grow with the catalog; engine-client baseline = @aws-sdk/client-athena alone making the same list calls, and running the same statements (text changed) 4 at a time with StartQueryExecution + GetQueryExecution; ' +
        'the emulator finishes a query on its first poll, where a real DDL takes about a second, so the apply figures measure metaform and the SDK, not Athena',
    );
  } finally {
    client.destroy();
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
