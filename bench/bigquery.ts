import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { catalogQueries } from '../src/connectors/bigquery/catalog.js';
import type { EmulatedDataset } from '../test/emulators/bigquery/engine.js';
import { startBigQueryEmulator } from '../test/emulators/bigquery/server.js';
import type { BenchOptions, BenchResult } from './types.js';
import { benchResult, columnDescription, columnName, reworded, runChild, tableDescription, tableName, writeProject, type StepResult } from './support.js';

const PROJECT = 'bench-project';
const DATASET = 'sales';
/** Rows per result page: BigQuery pages at about 10 MB; a COLUMN_FIELD_PATHS row here is ~60 bytes. */
const PAGE_ROWS = 50_000;

/** Throws unless the descriptions of the apply (`described`) or of the client's run (`reworded`) all landed, the last ones byte for byte. */
function landed(dataset: EmulatedDataset, options: BenchOptions, columnTables: number, word: 'described' | 'reworded'): void {
  const expected = (text: string) => (word === 'described' ? text : reworded(text));
  const last = Math.min(options.changes, options.tables) - 1;
  const described = [...dataset.tables.values()].filter((table) => table.description?.includes(word)).length;
  const lastTable = dataset.tables.get(tableName(last))?.description;
  if (described !== last + 1 || lastTable !== expected(tableDescription(last))) throw new Error(`${word}: ${described} table descriptions, the last ${JSON.stringify(lastTable)}`);
  const lastColumn = columnTables > 0 ? dataset.tables.get(tableName(columnTables - 1))?.schema.fields.at(-1)?.description : undefined;
  if (columnTables > 0 && lastColumn !== expected(columnDescription(columnTables - 1, options.columnsPerTable - 1)))
    throw new Error(`${word}: the last column description is ${JSON.stringify(lastColumn)}`);
}

/**
 * BigQuery on the emulator (there is no BigQuery here): the real @google-cloud/bigquery over
 * 127.0.0.1, the emulator's state and evaluator. The first `changes` tables get a description
 * (with a label), the first `columnTables` a description on every column. Requests are every
 * HTTP request the plan made (queries and their result pages), counted by the emulator.
 */
export async function benchBigQuery(options: BenchOptions): Promise<BenchResult> {
  const emulator = await startBigQueryEmulator({ projectId: PROJECT, pageRows: PAGE_ROWS });
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-bigquery-'));
  try {
    const dataset = emulator.engine.addDataset(PROJECT, DATASET);
    for (let i = 0; i < options.tables; i++)
      emulator.engine.addTable(dataset, tableName(i), Array.from({ length: options.columnsPerTable }, (_, c) => ({ name: columnName(c), type: 'STRING', mode: 'NULLABLE' })));
    const columnTables = Math.min(options.columnTables ?? 0, options.tables);
    const tables: Record<string, object | string | null> = {};
    for (let i = 0; i < options.tables; i++) {
      const described = i < options.changes;
      if (!described && i >= columnTables) {
        tables[tableName(i)] = null;
        continue;
      }
      tables[tableName(i)] = {
        ...(described ? { description: tableDescription(i), tags: { tier: `tier-${i % 3}` } } : {}),
        ...(i < columnTables ? { columns: Object.fromEntries(Array.from({ length: options.columnsPerTable }, (_, c) => [columnName(c), columnDescription(i, c)])) } : {}),
      };
    }
    await writeProject(dir, { type: 'bigquery', connection: emulator.connection }, { service: 'bench', database: PROJECT, schemas: { [DATASET]: { tables } } });

    // The client's own read: the same five queries, all pages.
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: emulator.connection.accessToken, expiry_date: Date.now() + 3600_000 });
    const client = new BigQuery({ projectId: PROJECT, location: 'US', apiEndpoint: emulator.url, authClient: auth as never });
    const readStarted = performance.now();
    for (const sql of catalogQueries(PROJECT, 'US', [DATASET])) await client.query({ query: sql, location: 'US' });
    const baselineReadMs = performance.now() - readStarted;

    const before = emulator.requests.length;
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    const planRequests = emulator.requests.length - before;
    process.stderr.write(`bigquery: plan ${JSON.stringify(plan.result)}, ${planRequests} HTTP requests\n`);
    const statementsFile = join(dir, 'statements.json');
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply', statementsFile]);
    process.stderr.write(`bigquery: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    landed(dataset, options, columnTables, 'described');
    const again = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    if (again.result.changes !== 0) throw new Error(`the plan after apply still has ${again.result.changes} changes`);
    // The client's own apply: the same statements (text changed), 4 at a time as metaform runs them.
    const statements = (JSON.parse(await readFile(statementsFile, 'utf8')) as string[]).map(reworded);
    const applyStarted = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < statements.length) await client.query({ query: statements[next++] as string, location: 'US' });
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    const baselineApplyMs = performance.now() - applyStarted;
    landed(dataset, options, columnTables, 'reworded');
    return benchResult(
      'BigQuery (emulator, @google-cloud/bigquery)',
      options,
      plan,
      applied,
      { readMs: baselineReadMs, applyMs: baselineApplyMs },
      `emulator in the bench process, ${PAGE_ROWS} rows per result page; the plan made ${planRequests} HTTP requests (5 jobs.query + getQueryResults pages); ` +
        'apply = the check of the plan (5 queries + one tables.get per table it changes), then one SET OPTIONS per table (description and labels) and one ALTER COLUMN list per table, 4 at a time; ' +
        'engine-client baseline = @google-cloud/bigquery alone running the same 5 queries, and the same statements (text changed) 4 at a time; converges (the next plan has no changes)',
    );
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
