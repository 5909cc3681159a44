/**
 * The TDS emulator on its own: statements SQL Server accepts and rejects, through the unmodified
 * mssql client, as an ordinary login with the grants each case names.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sql from 'mssql';
import { startMssqlEmulator, type MssqlEmulator } from './emulators/mssql/server.js';
import { lex } from './emulators/mssql/lexer.js';

interface Pool {
  connect(): Promise<Pool>;
  close(): Promise<void>;
  request(): { batch(text: string): Promise<unknown>; query(text: string): Promise<{ recordset: Record<string, unknown>[] }> };
}

describe('T-SQL lexer', () => {
  it("reads N'...' with doubled quotes, [...] with doubled ], nested comments; backslash is ordinary", () => {
    const tokens = lex("SELECT N'it''s \\' /* a /* nested */ comment */ [a]]b], \"q\"\"x\" -- rest");
    assert.deepEqual(
      tokens.map((token) => [token.kind, token.value]),
      [['ident', 'SELECT'], ['string', "it's \\"], ['ident', 'a]b'], ['symbol', ','], ['ident', 'q"x'], ['end', '']],
    );
    assert.throws(() => lex("SELECT N'it's'"), /Unclosed quotation mark/);
    assert.throws(() => lex('SELECT [a'), /Unclosed quotation mark/);
    assert.throws(() => lex('/* open'), /Missing end comment mark/);
  });
});

describe('SQL Server emulator through mssql', () => {
  let emulator: MssqlEmulator;
  let pool: Pool;
  const add = (name: string, value: string, schema = 'sales', table = 'orders') =>
    `EXEC sys.sp_addextendedproperty @name = N'${name}', @value = N'${value}', @level0type = N'SCHEMA', @level0name = N'${schema}', @level1type = N'TABLE', @level1name = N'${table}'`;
  const failure = async (text: string): Promise<number | undefined> => {
    try {
      await pool.request().batch(text);
      return undefined;
    } catch (error) {
      return (error as { number?: number }).number;
    }
  };

  before(async () => {
    emulator = await startMssqlEmulator({ database: 'shop' });
    emulator.run(`CREATE SCHEMA sales; CREATE SCHEMA hr; CREATE TABLE sales.Orders (id int); CREATE TABLE hr.pay (amount int); CREATE USER jane WITHOUT LOGIN;
      GRANT ALTER ON SCHEMA::sales TO metaform_svc`);
    pool = new (sql as unknown as { ConnectionPool: new (config: object) => Pool }).ConnectionPool(emulator.connection);
    await pool.connect();
  });
  after(async () => {
    await pool.close();
    await emulator.close();
  });

  it('answers the pool validation query and SELECTs over the catalog views, as the caller may see them', async () => {
    assert.deepEqual((await pool.request().query('SELECT 1 AS one')).recordset, [{ one: 1 }]);
    const objects = await pool.request().query("SELECT s.name AS s, o.name AS o FROM sys.objects o JOIN sys.schemas s ON s.schema_id = o.schema_id WHERE o.type IN ('U', 'V')");
    assert.deepEqual(objects.recordset, [{ s: 'sales', o: 'Orders' }], 'hr.pay is not visible without a permission on it');
  });

  it('adds, updates and drops extended properties with the real error numbers', async () => {
    assert.equal(await failure(add('MS_Description', "it''s")), undefined);
    assert.equal(await failure(add('MS_Description', 'again')), 15233, 'already exists');
    assert.equal(await failure(add('ms_description', 'folded')), 15233, 'names compare by the case-insensitive collation');
    assert.equal(await failure(`EXEC sys.sp_updateextendedproperty N'nope', N'x', N'SCHEMA', N'sales', N'TABLE', N'orders'`), 15217);
    assert.equal(await failure(`EXEC sys.sp_dropextendedproperty N'nope', N'SCHEMA', N'sales'`), 15217);
    assert.equal(await failure(add('x', 'bracketed level names are not names', '[sales]')), 15135);
    assert.equal(await failure(add('big', 'x'.repeat(3751))), 15097, 'sql_variant holds 7,500 bytes');
    assert.equal(await failure(`EXEC sys.sp_addextendedproperty N'x', N'y', N'TABLE', N'orders'`), 15600, 'TABLE is not a level-0 type');
    assert.equal(await failure(add('x', "it's")), 105, 'an unescaped quote is a syntax error');
    const value = await pool.request().query("SELECT CONVERT(nvarchar(4000), ep.value) AS v FROM sys.extended_properties ep WHERE ep.name = N'MS_Description'");
    assert.deepEqual(value.recordset, [{ v: "it's" }]);
  });

  it('checks permissions: no ALTER on the schema is 15247 / 15135, no TAKE OWNERSHIP is 15151', async () => {
    emulator.run('GRANT SELECT ON OBJECT::hr.pay TO metaform_svc');
    assert.equal(await failure(add('MS_Description', 'x', 'hr', 'pay')), 15247, 'visible, not alterable');
    assert.equal(await failure(add('MS_Description', 'x', 'dbo', 'nothing')), 15135);
    assert.equal(await failure('ALTER AUTHORIZATION ON OBJECT::hr.pay TO jane'), 15151);
    assert.equal(await failure('ALTER AUTHORIZATION ON SCHEMA::sales TO jane'), 15151, 'ALTER is not TAKE OWNERSHIP, nor IMPERSONATE on jane');
    assert.equal(await failure('ALTER AUTHORIZATION ON DATABASE::shop TO sa'), 15151);
  });

  it('rolls the whole transaction back on an error under XACT_ABORT ON', async () => {
    const batch = `SET XACT_ABORT ON; BEGIN TRANSACTION; ${add('t1', 'kept?')}; EXEC sys.sp_dropextendedproperty N'nope', N'SCHEMA', N'sales'; COMMIT TRANSACTION;`;
    assert.equal(await failure(batch), 15217);
    const rows = await pool.request().query("SELECT ep.name FROM sys.extended_properties ep WHERE ep.name = N't1'");
    assert.deepEqual(rows.recordset, []);
    assert.equal(await failure(`SET XACT_ABORT ON; BEGIN TRANSACTION; ${add('t1', 'kept')}; COMMIT TRANSACTION;`), undefined);
  });

  it('refuses a wrong password with 18456', async () => {
    const wrong = new (sql as unknown as { ConnectionPool: new (config: object) => Pool }).ConnectionPool({ ...emulator.connection, password: 'nope' });
    await assert.rejects(wrong.connect(), /Login failed for user 'metaform_svc'/);
  });
});
