/**
 * What the Oracle emulator accepts and refuses, through the unmodified node-oracledb in thin
 * mode: the rules engine.ts and lexer.ts cite, so that a connector sharing a wrong belief fails.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import oracledb from 'oracledb';
import { startOracleEmulator, ORACLEDB_VERSION, type OracleEmulator } from '../../emulators/oracle/server.js';

const rejects = async (work: Promise<unknown>, code: string) => {
  await assert.rejects(work, (error: Error) => {
    assert.match(error.message, new RegExp(`^${code}:`));
    return true;
  });
};

describe('Oracle emulator (node-oracledb thin mode over Oracle Net)', () => {
  let emulator: OracleEmulator;
  let connection: oracledb.Connection;

  before(async () => {
    emulator = await startOracleEmulator({ users: { APP: 'secret', OTHER: 'other' } });
    emulator.run('CREATE TABLE APP.ORDERS (ID NUMBER(10), EMAIL VARCHAR2(100))');
    emulator.run('CREATE TABLE OTHER.SECRET (ID NUMBER)');
    emulator.run('CREATE TABLE OTHER.SHARED (ID NUMBER)');
    emulator.run('GRANT SELECT ON OTHER.SHARED TO APP');
    connection = await oracledb.getConnection(emulator.connection);
  });
  after(async () => {
    await connection?.close();
    await emulator?.close();
  });

  it('is checked against the pinned node-oracledb version', () => {
    const installed = (createRequire(import.meta.url)('oracledb/package.json') as { version: string }).version;
    assert.equal(installed, ORACLEDB_VERSION, `the emulator's message layouts were checked against oracledb ${ORACLEDB_VERSION}; ${installed} is installed: check them again`);
  });

  it('logs on with the 12c verifier and refuses a wrong password or an unknown user with ORA-01017', async () => {
    assert.equal(connection.oracleServerVersionString, '19.3.0.0.0');
    await rejects(oracledb.getConnection({ ...emulator.connection, password: 'wrong' }), 'ORA-01017');
    await rejects(oracledb.getConnection({ ...emulator.connection, user: 'NOBODY' }), 'ORA-01017');
  });

  it('refuses a service the listener does not know', async () => {
    await assert.rejects(oracledb.getConnection({ ...emulator.connection, connectString: `127.0.0.1:${emulator.port}/NOPE` }), /NJS-518/);
  });

  it("reads '' as one quote, keeps backslashes, and stores '' as NULL", async () => {
    await connection.execute(`COMMENT ON TABLE orders IS 'it''s \\n q''[x]'''`);
    await connection.execute(`COMMENT ON COLUMN orders.email IS q'[a 'quoted' ]word]'`);
    const rows = (await connection.execute(`SELECT table_name, comments FROM all_tab_comments WHERE owner = :o`, ['APP'])).rows;
    assert.deepEqual(rows, [['ORDERS', "it's \\n q'[x]'"]]);
    const columns = (await connection.execute(`SELECT column_name, comments FROM all_col_comments WHERE owner = 'APP' AND table_name = 'ORDERS' ORDER BY column_name`)).rows;
    assert.deepEqual(columns, [['EMAIL', "a 'quoted' ]word"], ['ID', null]]);
    await connection.execute(`COMMENT ON TABLE orders IS ''`);
    assert.deepEqual((await connection.execute(`SELECT comments FROM all_tab_comments WHERE owner = 'APP'`)).rows, [[null]]);
  });

  it('refuses a wrongly escaped literal, a backslash-escaped quote, and a literal over 4000 bytes', async () => {
    await rejects(connection.execute(`COMMENT ON TABLE orders IS 'it's'`), 'ORA-01756');
    await rejects(connection.execute(`COMMENT ON TABLE orders IS 'it\\'s'`), 'ORA-01756');
    await rejects(connection.execute(`COMMENT ON TABLE orders IS '${'é'.repeat(2001)}'`), 'ORA-01704');
  });

  it('folds unquoted names to upper case and keeps quoted ones', async () => {
    await connection.execute(`COMMENT ON TABLE "APP"."ORDERS" IS 'x'`);
    await rejects(connection.execute(`COMMENT ON TABLE "orders" IS 'x'`), 'ORA-00942');
    await rejects(connection.execute(`COMMENT ON COLUMN orders.nope IS 'x'`), 'ORA-00904');
    await rejects(connection.execute(`COMMENT ON MATERIALIZED VIEW orders IS 'x'`), 'ORA-12003');
  });

  it("refuses other schemas' objects: ORA-00942 when unseen, ORA-01031 when only granted SELECT", async () => {
    await rejects(connection.execute(`COMMENT ON TABLE other.secret IS 'x'`), 'ORA-00942');
    await rejects(connection.execute(`COMMENT ON TABLE other.shared IS 'x'`), 'ORA-01031');
    const visible = (await connection.execute(`SELECT owner, table_name FROM all_tab_comments WHERE owner = 'OTHER'`)).rows;
    assert.deepEqual(visible, [['OTHER', 'SHARED']], 'ALL_TAB_COMMENTS lists what the user can access');
    emulator.run('GRANT COMMENT ANY TABLE TO APP');
    await connection.execute(`COMMENT ON TABLE other.shared IS 'x'`);
  });

  it('pages a large result through FETCH and binds owners', async () => {
    const columns = Array.from({ length: 150 }, (_, i) => `C${i} VARCHAR2(10)`).join(', ');
    emulator.run(`CREATE TABLE APP.WIDE (${columns})`);
    const result = await connection.execute(`SELECT column_name FROM all_col_comments WHERE owner = :1 AND table_name = :2`, ['APP', 'WIDE']);
    assert.equal(result.rows?.length, 150);
    await rejects(connection.execute(`SELECT x FROM all_tab_comments`), 'ORA-00904');
    await rejects(connection.execute(`SELECT * FROM dba_tab_comments`), 'ORA-00942');
  });
});
