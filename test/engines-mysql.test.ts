import assert from 'node:assert/strict';
import mysql from 'mysql2/promise';
import { after, before, describe, it } from 'node:test';
import { mysqlConnector } from '../src/connectors/mysql/index.js';
import type { ConnectorSession, ServiceConfig } from '../src/connectors/types.js';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { loadProject } from '../src/core/project.js';
import { startMariadb, type TestMariadb } from './support/mariadb.js';
import { tempProject } from './support/project.js';

/** Two operations per table (its comment, its column's comment): 2,000 operations. */
const TABLES = 1000;

describe('MySQL sessions on MariaDB: lost connections, the apply lock', () => {
  let db: TestMariadb | undefined;
  let skip: string | undefined;
  /** A user of its own, so that this test finds (and kills) only its own sessions. */
  const user = `mf_${process.pid}_${Math.random().toString(36).slice(2, 6)}`;

  before(async () => {
    const started = await startMariadb();
    if ('skip' in started) {
      skip = started.skip;
      return;
    }
    db = started;
    await db.query(`CREATE USER '${user}'@'%' IDENTIFIED BY 'pw'`);
    await db.query(`CREATE USER '${user}'@'localhost' IDENTIFIED BY 'pw'`);
    await db.query(`GRANT ALL ON \`${db.database}\`.* TO '${user}'@'%'`);
    await db.query(`GRANT ALL ON \`${db.database}\`.* TO '${user}'@'localhost'`);
    // Four connections at once: DDL round trips, not the server, are what takes time.
    const pool = mysql.createPool({ ...db.connection, connectionLimit: 4 });
    try {
      await Promise.all(
        Array.from({ length: 4 }, async (_, worker) => {
          for (let i = worker; i < TABLES; i += 4) await pool.query(`CREATE TABLE \`${db!.database}\`.t${i} (a int) ENGINE=MEMORY`);
        }),
      );
    } finally {
      await pool.end();
    }
  });
  after(async () => {
    await db?.query(`DROP USER IF EXISTS '${user}'@'%', '${user}'@'localhost'`);
    await db?.close();
  });

  const connection = () => ({ ...db!.connection, user, password: 'pw' });
  const service = (): ServiceConfig => ({ name: 'shop', type: 'mysql', connection: connection(), tags: { prune: true }, owners: { map: {} }, templates: {}, options: {} });
  /**
   * The lock is server-wide: another metaform test run on this server may hold it for a while.
   * Waits for it in short tries, so that the session keeps a short timeout for its re-acquisition.
   */
  const lockPatiently = async (session: ConnectorSession, timeoutMs: number) => {
    for (let tries = 0; ; tries++) {
      try {
        return await session.lock?.('default', timeoutMs);
      } catch (error) {
        if (tries > 120) throw error;
      }
    }
  };
  /** The sql_mode a fresh connection of the test user starts with. */
  const mysqlConnectionMode = async () => {
    const probe = await mysql.createConnection(connection());
    try {
      const [rows] = await probe.query({ sql: 'SELECT @@SESSION.sql_mode', rowsAsArray: true });
      return rows as [[string]];
    } finally {
      await probe.end();
    }
  };
  const sessionIds = async () => (await db!.query(`SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?`, [user])).map(([id]) => Number(id));

  it('reconnects when its connection is killed mid-apply, re-applies its sql_mode, and everything lands', async (t) => {
    if (skip || !db) return t.skip(skip);
    const [[current]] = (await db.query('SELECT @@GLOBAL.init_connect')) as [[string]];
    // Another run of this test may be under way: its setting is not the server's to keep.
    const initConnect = current.includes("USER() LIKE 'mf_") ? '' : current;
    // A new connection would quote differently if the session did not fix its sql_mode again. Only
    // this test's user gets the mode (init_connect skips SUPER users such as root), so that other
    // runs on this server are not disturbed.
    await db.query('SET GLOBAL init_connect = ?', [`SET SESSION sql_mode = IF(USER() LIKE '${user}@%', 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES', @@SESSION.sql_mode)`]);
    const [[mode]] = await mysqlConnectionMode();
    assert.equal(mode, 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES', 'a new connection of the test user starts in the unsafe modes');
    const text = (i: number) => `table ${i}: it's a \\ backslash`;
    const tables = Object.fromEntries(Array.from({ length: TABLES }, (_, i) => [`t${i}`, { description: text(i), columns: { a: `column ${text(i)}` } }]));
    const dir = await tempProject(
      { version: 1, services: { shop: { type: 'mysql', connection: connection() } } },
      { 'metadata/shop.yaml': { service: 'shop', database: 'default', schemas: { [db.database]: { tables } } } },
    );
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.equal(plan.operations.length, 2 * TABLES);
      let heard = 0;
      let killed = 0;
      const kills: Promise<void>[] = [];
      const original = process.stderr.write.bind(process.stderr);
      let stderr = '';
      process.stderr.write = ((chunk: string | Uint8Array) => {
        stderr += String(chunk);
        return true;
      }) as typeof process.stderr.write;
      const report = await applyPlan(loaded, plan, {
        onResult: () => {
          if (++heard === Math.floor((2 * TABLES) / 3) || heard === Math.floor((4 * TABLES) / 3))
            kills.push(sessionIds().then(async (ids) => {
              for (const id of ids) await db!.query(`KILL ${id}`).then(() => killed++, () => undefined);
            }));
        },
      }).finally(() => {
        process.stderr.write = original;
      });
      await Promise.all(kills);
      assert.equal(stderr, '', 'the driver printed nothing of its own');
      assert.ok(killed >= 2, `the session's connection was killed twice (${killed}, heard ${heard}, ${report.succeeded} ${report.failed})`);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.filter((op) => op.error).slice(0, 3).map((op) => op.error)));
      assert.ok(report.run.operations.some((op) => op.attempts > 1), 'an operation was retried on the new connection');
      const comments = await db.query(`SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?`, [db.database]);
      assert.equal(comments.length, TABLES);
      for (const [name, comment] of comments) assert.equal(comment, text(Number(String(name).slice(1))));
      const columns = await db.query(`SELECT TABLE_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?`, [db.database]);
      for (const [name, comment] of columns) assert.equal(comment, `column ${text(Number(String(name).slice(1)))}`);
      assert.deepEqual((await createPlan(loaded)).plan.changes, [], 'converged');
    } finally {
      await db.query('SET GLOBAL init_connect = ?', [initConnect]);
      await dir.remove();
    }
  });

  it('refuses a second apply lock while the first session holds it, and grants it after close()', async (t) => {
    if (skip || !db) return t.skip(skip);
    const first = await mysqlConnector.connect(service());
    const second = await mysqlConnector.connect(service());
    try {
      assert.ok(first.lock && second.lock);
      await lockPatiently(first, 500);
      await assert.rejects(second.lock('default', 200), (error: Error) => {
        assert.match(error.message, /another metaform apply is running on 127\.0\.0\.1:3306/);
        assert.match(error.message, /retry later|try again later/);
        return true;
      });
      await first.close();
      await lockPatiently(second, 500);
      assert.deepEqual(await db.query(`SELECT IS_USED_LOCK('metaform_apply') IN (SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?)`, [user]), [[1]]);
    } finally {
      await first.close().catch(() => undefined);
      await second.close();
    }
  });

  it('takes the lock again on the new connection after a reconnect, and stops when another apply took it meanwhile', async (t) => {
    if (skip || !db) return t.skip(skip);
    const session = await mysqlConnector.connect(service());
    const other = await mysqlConnector.connect({ ...service(), connection: { ...db.connection } });
    try {
      await lockPatiently(session, 500);
      // The server frees the lock of a killed connection; the session takes it back before anything else.
      for (const id of await sessionIds()) await db.query(`KILL ${id}`);
      const op = (i: number) => ({ id: `op${i}`, service: 'shop', database: 'default', changeIds: [], statements: [`ALTER TABLE \`${db!.database}\`.t${i} COMMENT = 'relocked ${i}'`] });
      const results = await session.execute({ database: 'default', operations: [op(0), op(1)] });
      assert.deepEqual(results.map((result) => result.outcome), ['succeeded', 'succeeded']);
      assert.deepEqual(await db.query(`SELECT IS_USED_LOCK('metaform_apply') IN (SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ?)`, [user]), [[1]]);
      // Killed again, and this time another apply takes the lock first: nothing more runs.
      for (const id of await sessionIds()) await db.query(`KILL ${id}`);
      await lockPatiently(other, 500);
      const untouched = `SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('t2', 't3') ORDER BY TABLE_NAME`;
      const before = await db.query(untouched, [db.database]);
      const stopped = await session.execute({ database: 'default', operations: [op(2), op(3), op(4)] });
      assert.deepEqual(stopped.map((result) => result.outcome), ['failed', 'not-run', 'not-run']);
      assert.match(stopped[0]?.error ?? '', /another metaform apply is running/);
      assert.match(stopped[1]?.error ?? '', /^not run: /);
      assert.deepEqual(await db.query(untouched, [db.database]), before, 'nothing ran without the lock');
    } finally {
      await session.close().catch(() => undefined);
      await other.close();
    }
  });

  it('stops at a server that cannot be reached: one attempt series, the rest not run with one message', async (t) => {
    if (skip || !db) return t.skip(skip);
    const session = await mysqlConnector.connect(service());
    try {
      // The server "goes away": the connection is killed, and the reconnect finds nothing listening.
      (session as unknown as { service: ServiceConfig }).service = { ...service(), connection: { ...connection(), port: 1 } };
      for (const id of await sessionIds()) await db.query(`KILL ${id}`);
      const operations = Array.from({ length: 500 }, (_, i) => ({ id: `op${i}`, service: 'shop', database: 'default', changeIds: [], statements: [`ALTER TABLE \`${db!.database}\`.t${i} COMMENT = 'x'`] }));
      const results = await session.execute({ database: 'default', operations });
      assert.equal(results[0]?.outcome, 'failed');
      const notRun = results.slice(1);
      assert.ok(notRun.every((result) => result.outcome === 'not-run'));
      assert.deepEqual([...new Set(notRun.map((result) => result.error))], ['not run: MySQL/MariaDB at 127.0.0.1:1 as ' + user + ' is unreachable (connect ECONNREFUSED 127.0.0.1:1)']);
    } finally {
      await session.close().catch(() => undefined);
    }
  });

  it('reads the catalog again on a new connection after losing it; stops when the connection cannot be re-established', async (t) => {
    if (skip || !db) return t.skip(skip);
    const session = await mysqlConnector.connect(service());
    try {
      for (const id of await sessionIds()) await db.query(`KILL ${id}`);
      const snapshot = await session.read({ databases: ['default'], schemas: new Map([['default', [db.database]]]) });
      assert.equal(snapshot.databases.get('default')?.children.get(db.database)?.children.size, TABLES);
      // The account changes meanwhile: the session cannot log in again.
      await db.query(`ALTER USER '${user}'@'%' IDENTIFIED BY 'changed'`);
      await db.query(`ALTER USER '${user}'@'localhost' IDENTIFIED BY 'changed'`);
      for (const id of await sessionIds()) await db.query(`KILL ${id}`);
      const operations = Array.from({ length: 200 }, (_, i) => ({ id: `op${i}`, service: 'shop', database: 'default', changeIds: [], statements: [`ALTER TABLE \`${db!.database}\`.t${i} COMMENT = 'y'`] }));
      const results = await session.execute({ database: 'default', operations });
      assert.equal(results[0]?.outcome, 'failed');
      assert.match(results[0]?.error ?? '', /Access denied/);
      assert.ok(results.slice(1).every((result) => result.outcome === 'not-run'));
      assert.equal(new Set(results.slice(1).map((result) => result.error)).size, 1);
      assert.match(results[1]?.error ?? '', /^not run: MySQL\/MariaDB at 127\.0\.0\.1:3306 as mf_\S+ is unreachable \(Access denied/);
    } finally {
      await db.query(`ALTER USER '${user}'@'%' IDENTIFIED BY 'pw'`);
      await db.query(`ALTER USER '${user}'@'localhost' IDENTIFIED BY 'pw'`);
      await session.close().catch(() => undefined);
    }
  });

  it('matches a YAML column name to the live column whatever its case, and keeps the live spelling', async (t) => {
    if (skip || !db) return t.skip(skip);
    await db.query(`CREATE TABLE \`${db.database}\`.Cased (Col int NOT NULL DEFAULT 3, other int) ENGINE=MEMORY`);
    const dir = await tempProject(
      { version: 1, services: { shop: { type: 'mysql', connection: connection() } } },
      { 'metadata/shop.yaml': { service: 'shop', database: 'default', schemas: { [db.database]: { tables: { Cased: { columns: { col: 'lower-case in YAML' } } } } } } },
    );
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.deepEqual(plan.changes.map((change) => change.path.slice(2)), [['Cased', 'Col']]);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      assert.deepEqual(await db.query(`SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'Cased' ORDER BY ORDINAL_POSITION`, [db.database]), [
        ['Col', 'lower-case in YAML'],
        ['other', ''],
      ]);
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await dir.remove();
    }
  });
});

describe('MySQL names in YAML', () => {
  it('two spellings of one column are a conflict naming both places; table names keep their case', async () => {
    const dir = await tempProject(
      { version: 1, services: { shop: { type: 'mysql', connection: {} } } },
      {
        'metadata/a.yaml': { service: 'shop', database: 'default', schemas: { db: { tables: { t: { columns: { COL: 'upper' } }, T: 'another table' } } } },
        'metadata/b.yaml': { service: 'shop', database: 'default', schemas: { db: { tables: { t: { columns: { col: 'lower' } } } } } },
      },
    );
    try {
      const message = await loadProject(dir.dir).then(() => '', (error: unknown) => String(error));
      assert.match(message, /metadata\/b\.yaml:\d+:\d+: column "col" and "COL" resolve to the same object shop\.default\.db\.t\.COL; the other is at metadata\/a\.yaml:\d+:\d+/);
      assert.doesNotMatch(message, /table "T"/, 'tables t and T are two tables (lower_case_table_names=0, the Linux default)');
    } finally {
      await dir.remove();
    }
  });
});
