import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { objectKey } from '../test/emulators/mssql/catalog.js';
import { startMssqlEmulator } from '../test/emulators/mssql/server.js';
import type { BenchOptions, BenchResult } from './types.js';
import { columnDescription, columnName, round, runChild, tableDescription, tableName, writeProject, type StepResult } from './support.js';

/**
 * SQL Server on the TDS emulator (there is no SQL Server here): the real mssql/tedious client over
 * 127.0.0.1, the emulator's catalog and evaluator, as a login with CONTROL on the schema. Plan
 * figures count what the connector asks, not SQL Server's speed. The first `changes` tables get a
 * description, the first `columnTables` one on every column.
 */
export async function benchMssql(options: BenchOptions): Promise<BenchResult> {
  const emulator = await startMssqlEmulator({ database: 'bench' });
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-mssql-'));
  try {
    emulator.run('CREATE SCHEMA s; GRANT CONTROL ON SCHEMA::s TO metaform_svc');
    const database = emulator.engine.database('bench');
    const schema = database && [...database.schemas.values()].find((candidate) => candidate.name === 's');
    if (!database || !schema) throw new Error('bench schema missing');
    // Built in memory: 10,000 CREATE TABLE statements through the lexer would only measure the emulator.
    for (let i = 0; i < options.tables; i++) {
      const object_id = database.nextId++;
      const name = tableName(i);
      const columns = Array.from({ length: options.columnsPerTable }, (_, c) => ({ column_id: c + 1, name: columnName(c) }));
      database.objects.set(object_id, { object_id, schema_id: schema.schema_id, name, type: 'U', principal_id: null, columns });
      database.objectIndex.set(objectKey(schema.schema_id, name.toLowerCase()), object_id);
    }
    const columnTables = Math.min(options.columnTables ?? 0, options.tables);
    const tables: Record<string, object | string | null> = {};
    for (let i = 0; i < options.tables; i++) {
      const description = i < options.changes ? tableDescription(i) : null;
      if (i >= columnTables) tables[tableName(i)] = description;
      else
        tables[tableName(i)] = {
          ...(description === null ? {} : { description }),
          columns: Object.fromEntries(Array.from({ length: options.columnsPerTable }, (_, c) => [columnName(c), columnDescription(i, c)])),
        };
    }
    await writeProject(dir, { type: 'mssql', connection: emulator.connection }, { service: 'bench', database: 'bench', schemas: { s: { tables } } });
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    process.stderr.write(`mssql: plan ${JSON.stringify(plan.result)}\n`);
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply']);
    process.stderr.write(`mssql: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    const again = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    if (again.result.changes !== 0) throw new Error(`the plan after apply still has ${again.result.changes} changes`);
    return {
      engine: 'SQL Server (emulator, mssql/tedious)',
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
      notes: 'emulator in the bench process, metaform in a child; queries = 5 catalog reads per database; apply = one procedure call per change, 500 to a transaction; converges',
    };
  } finally {
    await emulator.close();
    await rm(dir, { recursive: true, force: true });
  }
}
