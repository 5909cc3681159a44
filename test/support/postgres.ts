import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';

/** A PostgreSQL the tests can use through the real `pg` client. */
export interface TestPostgres {
  kind: 'pglite' | 'server';
  /** The `connection` block of a metaform service. */
  connection: { host: string; port: number; user: string; database: string; password?: string };
  /** Runs SQL as the admin user on the test database. */
  query(sql: string, values?: unknown[]): Promise<pg.QueryResult>;
  close(): Promise<void>;
}

/** In-process PGlite served over its socket, so the real pg client and wire protocol are used. */
export async function startPglite(): Promise<TestPostgres> {
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 16 });
  await server.start();
  const [host = '127.0.0.1', port = '0'] = server.getServerConn().split(':');
  const connection = { host, port: Number(port), user: 'postgres', database: 'postgres' };
  const admin = new pg.Client(connection);
  await admin.connect();
  return {
    kind: 'pglite',
    connection,
    query: (sql, values) => admin.query(sql, values),
    async close() {
      await admin.end();
      await server.stop();
      await db.close();
    },
  };
}

const SERVER = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres' };

/**
 * A scratch database on the local PostgreSQL server, dropped on close. Undefined when no server
 * answers, unless METAFORM_REQUIRE_POSTGRES=1 (CI), where that is a failure.
 */
export async function startServerPostgres(): Promise<TestPostgres | { skip: string }> {
  const probe = new pg.Client({ ...SERVER, database: 'postgres', connectionTimeoutMillis: 3000 });
  try {
    await probe.connect();
  } catch (error) {
    const reason = `PostgreSQL server not reachable at ${SERVER.host}:${SERVER.port} (${(error as Error).message})`;
    if (process.env['METAFORM_REQUIRE_POSTGRES'] === '1') throw new Error(`${reason}; METAFORM_REQUIRE_POSTGRES=1 makes this a failure`, { cause: error });
    return { skip: `${reason}; server tests skipped, PGlite tests still ran` };
  }
  const database = `metaform_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  await probe.query(`CREATE DATABASE ${database}`);
  const connection = { ...SERVER, database };
  const admin = new pg.Client(connection);
  await admin.connect();
  return {
    kind: 'server',
    connection,
    query: (sql, values) => admin.query(sql, values),
    async close() {
      await admin.end();
      await probe.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await probe.end();
    },
  };
}
