import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { mysqlCatalogQueries, SERVER_FACTS_SQL, showCreateTableSql } from '../src/connectors/mysql/catalog.js';
import { quoteMysqlIdentifier } from '../src/connectors/mysql/dialect.js';
import type { BenchOptions, BenchResult } from './types.js';
import { benchResult, columnName, expectLanded, reworded, round, runChild, tableName, timeCommand, twoLevelDesiredState, writeProject, type StepResult } from './support.js';

const SERVER = {
  host: process.env['MYSQL_HOST'] ?? '127.0.0.1',
  port: Number(process.env['MYSQL_PORT'] ?? 3306),
  user: process.env['MYSQL_USER'] ?? 'root',
  password: process.env['MYSQL_PASSWORD'] ?? '',
};

/** Tables t00000.. with int columns c00.. (InnoDB, the default engine), built server-side by one stored procedure call. */
async function buildCatalog(admin: mysql.Connection, database: string, options: BenchOptions): Promise<void> {
  const columns = Array.from({ length: options.columnsPerTable }, (_, c) => `${columnName(c)} int`).join(', ');
  const db = quoteMysqlIdentifier(database);
  await admin.query(`CREATE PROCEDURE ${db}.build_catalog(n INT)
    BEGIN
      DECLARE i INT DEFAULT 0;
      WHILE i < n DO
        SET @metaform_bench_sql = CONCAT('CREATE TABLE ${db}.t', LPAD(i, 5, '0'), ' (${columns})');
        PREPARE create_table FROM @metaform_bench_sql;
        EXECUTE create_table;
        DEALLOCATE PREPARE create_table;
        SET i = i + 1;
      END WHILE;
    END`);
  await admin.query(`CALL ${db}.build_catalog(?)`, [options.tables]);
  await admin.query(`DROP PROCEDURE ${db}.build_catalog`);
}

/**
 * What landed: how many table and column comments of the scratch database contain `word`, the
 * exact text of the last commented table and column, and how many columns are no longer int.
 */
async function landed(admin: mysql.Connection, database: string, options: BenchOptions, columnTables: number, word: string) {
  const value = async (sql: string, values: unknown[]) => {
    const [rows] = (await admin.query({ sql, values, rowsAsArray: true })) as unknown as [unknown[][]];
    return rows[0]?.[0];
  };
  const pattern = `%${word}%`;
  const lastTable = Math.min(options.changes, options.tables) - 1;
  const lastColumn = options.columnsPerTable - 1;
  return {
    tables: Number(await value('SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_COMMENT LIKE ?', [database, pattern])),
    columns: Number(await value('SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND COLUMN_COMMENT LIKE ?', [database, pattern])),
    notInt: Number(await value("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND COLUMN_TYPE NOT LIKE 'int%'", [database])),
    tableText: lastTable < 0 ? '' : String(await value('SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, tableName(lastTable)])),
    columnText:
      columnTables < 1
        ? ''
        : String(
            await value('SELECT COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND COLUMN_NAME = ?', [
              database,
              tableName(columnTables - 1),
              columnName(lastColumn),
            ]),
          ),
  };
}

/** Throws unless every planned comment landed, byte for byte in the samples, and no column changed type. */
async function verify(admin: mysql.Connection, database: string, options: BenchOptions, columnTables: number, word: string, after: string): Promise<string> {
  const found = await landed(admin, database, options, columnTables, word);
  return expectLanded(found, options, columnTables, word, after);
}

export async function benchMysql(options: BenchOptions): Promise<BenchResult> {
  const admin = await mysql.createConnection({ ...SERVER, charset: 'utf8mb4' });
  const database = `metaform_bench_${process.pid}`;
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-mysql-'));
  try {
    await admin.query(`CREATE DATABASE ${quoteMysqlIdentifier(database)} CHARACTER SET utf8mb4`);
    const [[[version]]] = (await admin.query({ sql: 'SELECT VERSION()', rowsAsArray: true })) as unknown as [[[string]]];
    const buildStarted = performance.now();
    await buildCatalog(admin, database, options);
    process.stderr.write(`mysql: built ${options.tables} tables x ${options.columnsPerTable} columns in ${round(performance.now() - buildStarted)} ms\n`);
    const columnTables = Math.min(options.columnTables ?? 0, options.tables);
    await writeProject(dir, { type: 'mysql', connection: SERVER }, twoLevelDesiredState(database, { ...options, columnTables }));

    const cli = [
      '--protocol=TCP', '-h', SERVER.host, '-P', String(SERVER.port), '-u', SERVER.user,
      ...(SERVER.password ? [`--password=${SERVER.password}`] : []),
      '--batch', '--skip-column-names', '--default-character-set=utf8mb4', database,
    ];
    // Baseline read: the mariadb client running what the plan runs: the server facts, the three
    // catalog queries (parameters inlined the way mysql2 inlines them), then prepare()'s
    // SHOW CREATE TABLE of each table whose column comments change.
    const catalog = mysqlCatalogQueries([database], true);
    const catalogScript = [SERVER_FACTS_SQL, ...[catalog.schemata, catalog.tables, catalog.columns].map((query) => mysql.format(query.sql, query.values as Parameters<typeof mysql.format>[1]))]
      .map((sql) => `${sql};`)
      .join('\n');
    const showCreateScript = Array.from({ length: columnTables }, (_, i) => `${showCreateTableSql(database, tableName(i))};`).join('\n');
    await timeCommand('mariadb', cli, `${catalogScript}\n${showCreateScript}`); // warm the table cache once for both
    const baselineCatalogMs = await timeCommand('mariadb', cli, catalogScript);
    const baselineReadMs = await timeCommand('mariadb', cli, `${catalogScript}\n${showCreateScript}`);
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);
    process.stderr.write(`mysql: plan ${JSON.stringify(plan.result)}\n`);

    // Apply: metaform, then the mariadb client running the same statements as one script.
    const statementsFile = join(dir, 'statements.json');
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply', statementsFile]);
    process.stderr.write(`mysql: apply ${JSON.stringify(applied.result)}\n`);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed, the first: ${applied.result.firstError}`);
    if (applied.result.skipped) throw new Error(`${applied.result.skipped} changes skipped`);
    const verified = await verify(admin, database, options, columnTables, 'described', 'apply');
    const statements = (JSON.parse(await readFile(statementsFile, 'utf8')) as string[]).map(reworded);
    const baselineApplyMs = await timeCommand('mariadb', cli, `${statements.map((sql) => `${sql};`).join('\n')}\n`);
    await verify(admin, database, options, columnTables, 'reworded', 'the mariadb script');
    process.stderr.write(`mysql: verified ${verified} after apply (and the same after the mariadb script), exact text of the last of each, column types intact\n`);

    const baseline = { readMs: baselineReadMs, applyMs: baselineApplyMs };
    return benchResult(`MariaDB ${version.split('.').slice(0, 2).join('.')} (server, mysql connector)`, options, plan, applied, baseline, `InnoDB; plan includes loading and validating the YAML; mariadb read = the same 4 catalog queries (${round(baselineCatalogMs)} ms alone) ` +
        `+ the ${columnTables} SHOW CREATE TABLE prepare() issues for the tables whose column comments change; ` +
        `mariadb script = the plan's statements (comment text changed, so they do the same work again); metaform apply also re-reads SHOW CREATE TABLE before each column ALTER`);
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${quoteMysqlIdentifier(database)}`).catch((error: unknown) => {
      process.stderr.write(`mysql: could not drop ${database}: ${String(error)}\n`);
    });
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}
