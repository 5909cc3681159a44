import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { catalogQueries } from '../src/connectors/bigquery/catalog.js';
import { startBigQueryEmulator } from '../test/emulators/bigquery/server.js';
import type { BenchOptions, BenchResult } from './types.js';
import { columnDescription, columnName, round, runChild, tableDescription, tableName, writeProject, type StepResult } from './support.js';

const PROJECT = 'bench-project';
const DATASET = 'sales';
/** Rows per result page: BigQuery pages at about 10 MB; a COLUMN_FIELD_PATHS row here is ~60 bytes. */
const PAGE_ROWS = 50_000;

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
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply']);
    process.stderr.write(`bigquery: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    const last = Math.min(options.changes, options.tables) - 1;
    const landed = [...dataset.tables.values()].filter((table) => table.description !== undefined).length;
    if (landed !== last + 1 || dataset.tables.get(tableName(last))?.description !== tableDescription(last)) throw new Error(`after apply: ${landed} table descriptions`);
    if (columnTables > 0 && dataset.tables.get(tableName(columnTables - 1))?.schema.fields.at(-1)?.description !== columnDescription(columnTables - 1, options.columnsPerTable - 1))
      throw new Error('after apply: the last column description did not land');
    const again = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    if (again.result.changes !== 0) throw new Error(`the plan after apply still has ${again.result.changes} changes`);
    return {
      engine: 'BigQuery (emulator, @google-cloud/bigquery)',
      tables: options.tables,
      columnsPerTable: options.columnsPerTable,
      planMs: round(plan.result.planMs),
      loadMs: round(plan.result.loadMs),
      catalogQueries: plan.result.queries,
      peakRssMiB: round(plan.maxRssMiB),
      baselineReadMs: round(baselineReadMs),
      applyChanges: applied.result.changes,
      columnChanges: applied.result.columnChanges,
      applyStatements: applied.result.operations,
      applyMs: round(applied.result.applyMs),
      notes:
        `emulator in the bench process, ${PAGE_ROWS} rows per result page; the plan made ${planRequests} HTTP requests (5 jobs.query + getQueryResults pages); ` +
        `apply = one SET OPTIONS per table (description and labels) and one ALTER COLUMN list per table, 4 at a time; converges (the next plan has no changes)`,
    };
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
