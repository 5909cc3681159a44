import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSnowflakeEmulator } from '../test/emulators/snowflake/server.js';
import type { BenchOptions, BenchResult } from './types.js';
import { columnDescription, columnName, round, runChild, tableDescription, tableName, writeProject, type StepResult } from './support.js';

/**
 * Snowflake on the emulator (there is no Snowflake here): the real snowflake-sdk, the real
 * protocol over 127.0.0.1, the emulator's catalog and evaluator. Plan figures count what the
 * connector asks (queries, result rows through the driver), not Snowflake's own speed; there is
 * no engine client to compare with. The first `changes` tables get a description, the first
 * `columnTables` a description on every column and a tag (each confirmed in real time before
 * rendering, in batches).
 */
export async function benchSnowflake(options: BenchOptions): Promise<BenchResult> {
  const emulator = await startSnowflakeEmulator({ chunkRows: 10_000 });
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-snowflake-'));
  try {
    const { catalog } = emulator.engine;
    emulator.run('CREATE DATABASE bench');
    emulator.run('CREATE SCHEMA bench.s');
    emulator.run('CREATE SCHEMA bench.tags');
    emulator.run('CREATE TAG bench.tags.tier');
    const schema = catalog.databases.get('BENCH')?.schemas.get('S');
    if (!schema) throw new Error('bench schema missing');
    const columns = Array.from({ length: options.columnsPerTable }, (_, c) => ({ name: columnName(c).toUpperCase(), dataType: 'NUMBER' }));
    for (let i = 0; i < options.tables; i++) catalog.addTable(schema, tableName(i).toUpperCase(), 'BASE TABLE', 'ACCOUNTADMIN', columns);
    const columnTables = Math.min(options.columnTables ?? 0, options.tables);
    const tables: Record<string, object | string | null> = {};
    for (let i = 0; i < options.tables; i++) {
      const description = i < options.changes ? tableDescription(i) : null;
      if (i >= columnTables) tables[tableName(i)] = description;
      else
        tables[tableName(i)] = {
          ...(description === null ? {} : { description }),
          tags: { TIER: `tier ${i % 3}` },
          columns: Object.fromEntries(Array.from({ length: options.columnsPerTable }, (_, c) => [columnName(c), columnDescription(i, c)])),
        };
    }
    await writeProject(
      dir,
      { type: 'snowflake', connection: { account: 'emulated', user: 'metaform', password: 'secret', accessUrl: emulator.url }, options: { tagSchema: 'BENCH.TAGS' } },
      { service: 'bench', database: 'bench', schemas: { s: { tables } } },
    );
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    process.stderr.write(`snowflake: plan ${JSON.stringify(plan.result)}\n`);
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply']);
    process.stderr.write(`snowflake: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    const described = [...schema.tables.values()].filter((table) => table.comment !== null).length;
    const last = schema.tables.get(tableName(Math.min(options.changes, options.tables) - 1).toUpperCase());
    if (described !== Math.min(options.changes, options.tables) || last?.comment !== tableDescription(Math.min(options.changes, options.tables) - 1))
      throw new Error(`after apply: ${described} table comments, the last ${JSON.stringify(last?.comment)}`);
    const again = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    if (again.result.changes !== 0) throw new Error(`the plan after apply still has ${again.result.changes} changes`);
    return {
      engine: 'Snowflake (emulator, snowflake-sdk)',
      tables: options.tables,
      columnsPerTable: options.columnsPerTable,
      planMs: round(plan.result.planMs),
      loadMs: round(plan.result.loadMs),
      catalogQueries: plan.result.queries,
      peakRssMiB: round(plan.maxRssMiB),
      applyChanges: applied.result.changes,
      columnChanges: applied.result.columnChanges,
      applyStatements: applied.result.operations,
      applyMs: round(applied.result.applyMs),
      notes:
        `emulator in the bench process; queries = 5 catalog reads + 1 SHOW TAGS + 1 real-time tag read per 50 tables whose tags change (${columnTables} here); ` +
        `apply = one statement per change, 8 at a time; converges (the next plan has no changes)`,
    };
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
