import mysql from 'mysql2/promise';

export interface TestMariadb {
  connection: { host: string; port: number; user: string; password: string };
  /** A scratch database, dropped on close. */
  database: string;
  query(sql: string, values?: unknown[]): Promise<unknown[][]>;
  /** SHOW CREATE TABLE text of a table in the scratch database. */
  showCreate(table: string): Promise<string>;
  close(): Promise<void>;
}

const SERVER = {
  host: process.env['MYSQL_HOST'] ?? '127.0.0.1',
  port: Number(process.env['MYSQL_PORT'] ?? 3306),
  user: process.env['MYSQL_USER'] ?? 'root',
  password: process.env['MYSQL_PASSWORD'] ?? '',
};

/** The MariaDB at 127.0.0.1:3306, or a reason to skip (a failure when METAFORM_REQUIRE_MARIADB=1). */
export async function startMariadb(): Promise<TestMariadb | { skip: string }> {
  let admin: mysql.Connection;
  try {
    admin = await mysql.createConnection({ ...SERVER, charset: 'utf8mb4', connectTimeout: 3000 });
  } catch (error) {
    const reason = `MariaDB not reachable at ${SERVER.host}:${SERVER.port} (${(error as Error).message})`;
    if (process.env['METAFORM_REQUIRE_MARIADB'] === '1') throw new Error(`${reason}; METAFORM_REQUIRE_MARIADB=1 makes this a failure`, { cause: error });
    return { skip: `${reason}; MySQL tests skipped` };
  }
  const database = `metaform_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4`);
  const query = async (sql: string, values: unknown[] = []) => {
    const [rows] = await admin.query({ sql, values, rowsAsArray: true });
    return rows as unknown[][];
  };
  return {
    connection: SERVER,
    database,
    query,
    showCreate: async (table) => String((await query(`SHOW CREATE TABLE \`${database}\`.\`${table.replaceAll('`', '``')}\``))[0]?.[1]),
    async close() {
      await admin.query(`DROP DATABASE IF EXISTS \`${database}\``);
      await admin.end();
    },
  };
}
