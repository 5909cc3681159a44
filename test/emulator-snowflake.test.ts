/**
 * The Snowflake emulator's own tests: statements Snowflake's documentation shows as accepted
 * and rejected, the catalog views evaluated over its state, and its protocol through the
 * unmodified snowflake-sdk.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SnowflakeEngine, type SessionContext } from './emulators/snowflake/engine.js';
import { lex } from './emulators/snowflake/lexer.js';
import { startSnowflakeEmulator, type SnowflakeEmulator } from './emulators/snowflake/server.js';
import { EngineError } from './emulators/kit/tokens.js';
import { loadSnowflakeDriver } from '../src/connectors/snowflake/client.js';

const admin = (): SessionContext => ({ user: 'ADMIN', role: 'ACCOUNTADMIN', database: null, schema: null });

function account(): { engine: SnowflakeEngine; run: (sql: string) => unknown[][]; session: SessionContext } {
  const engine = new SnowflakeEngine();
  const session = admin();
  const run = (sql: string) => engine.execute(sql, session).rows;
  run('CREATE DATABASE analytics');
  run('CREATE SCHEMA analytics.sales');
  run('CREATE DATABASE governance');
  run('CREATE SCHEMA governance.tags');
  run("CREATE TAG governance.tags.cost_center ALLOWED_VALUES 'finance', 'engineering' COMMENT = 'cost center'");
  run('CREATE TAG governance.tags.pii');
  run('CREATE TABLE analytics.sales.orders (id NUMBER(38,0), email VARCHAR)');
  run('CREATE TABLE analytics.sales."Orders" (id NUMBER)');
  run('CREATE VIEW analytics.sales.order_emails AS SELECT id, email FROM analytics.sales.orders');
  return { engine, run, session };
}

function rejects(run: () => unknown, code: string, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof EngineError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, message);
    return true;
  });
}

describe('Snowflake emulator: lexical rules', () => {
  it('folds unquoted identifiers to upper case and keeps quoted ones, with "" for a quote', () => {
    const [a, , b] = lex('orders."My ""Table"""');
    assert.deepEqual([a?.value, b?.value], ['ORDERS', 'My "Table"']);
  });

  it("reads '' and backslash escapes in single-quoted strings, and $$ strings verbatim", () => {
    const values = lex(`'it''s' 'it\\'s' 'a\\\\b' 'line\\nbreak' '\\x41\\u00e9\\101' $$no \\escapes 'here'$$`)
      .filter((token) => token.kind === 'string')
      .map((token) => token.value);
    assert.deepEqual(values, ["it's", "it's", 'a\\b', 'line\nbreak', 'AéA', "no \\escapes 'here'"]);
  });

  it('skips --, // and /* */ comments', () => {
    assert.deepEqual(
      lex('SELECT -- one\n 1 // two\n /* three */ , 2').map((token) => token.value),
      ['SELECT', '1', ',', '2', ''],
    );
  });

  it('fails an unterminated literal, as Snowflake does, with a syntax error', () => {
    rejects(() => lex("COMMENT ON TABLE t IS 'unterminated"), '001003', /syntax error line 1 at position \d+ unexpected '<EOF>'/);
  });
});

describe('Snowflake emulator: statements', () => {
  it('COMMENT ON and ALTER ... SET/UNSET COMMENT on each kind of object, by the documented forms', () => {
    const { engine, run } = account();
    run("COMMENT ON DATABASE analytics IS 'db'");
    run("COMMENT IF EXISTS ON SCHEMA analytics.sales IS 'schema'");
    run("COMMENT ON TABLE analytics.sales.orders IS 'it''s \\\\ here'");
    run("COMMENT ON VIEW analytics.sales.order_emails IS 'view'");
    run("COMMENT ON COLUMN analytics.sales.orders.email IS 'buyer'");
    run("ALTER VIEW analytics.sales.order_emails ALTER COLUMN email COMMENT 'view column'");
    run("ALTER TABLE analytics.sales.\"Orders\" SET COMMENT = $$mixed$$");
    const db = engine.catalog.databases.get('ANALYTICS');
    const sales = db?.schemas.get('SALES');
    assert.equal(db?.comment, 'db');
    assert.equal(sales?.comment, 'schema');
    assert.equal(sales?.tables.get('ORDERS')?.comment, "it's \\ here");
    assert.equal(sales?.tables.get('ORDERS')?.columns.get('EMAIL')?.comment, 'buyer');
    assert.equal(sales?.tables.get('ORDER_EMAILS')?.columns.get('EMAIL')?.comment, 'view column');
    assert.equal(sales?.tables.get('Orders')?.comment, 'mixed');
    run('ALTER TABLE analytics.sales.orders UNSET COMMENT');
    run('ALTER TABLE analytics.sales.orders ALTER COLUMN email UNSET COMMENT');
    run('ALTER SCHEMA analytics.sales UNSET COMMENT');
    assert.equal(sales?.tables.get('ORDERS')?.comment, null);
    assert.equal(sales?.tables.get('ORDERS')?.columns.get('EMAIL')?.comment, null);
    assert.equal(sales?.comment, null);
  });

  it('rejects what Snowflake rejects: unknown objects, a view named as a table, a wrong keyword, a bad literal', () => {
    const { run } = account();
    rejects(() => run("COMMENT ON TABLE analytics.sales.nope IS 'x'"), '002003', /Table 'ANALYTICS.SALES.NOPE' does not exist or not authorized/);
    rejects(() => run("COMMENT ON TABLE analytics.sales.order_emails IS 'x'"), '002003', /does not exist or not authorized/);
    rejects(() => run("COMMENT ON SCHEMA analytics.nope IS 'x'"), '002003', /Schema 'ANALYTICS.NOPE' does not exist/);
    rejects(() => run("COMMENT ON DATABASE nope IS 'x'"), '002003', /Database 'NOPE' does not exist/);
    rejects(() => run("COMMENT ON TABLE analytics.sales.orders IS 'it's'"), '001003', /syntax error/);
    rejects(() => run('COMMENT ON TABLE analytics.sales.orders IS "double quoted"'), '001003', /syntax error/);
    rejects(() => run("ALTER TABLE analytics.sales.orders SET COMMENT 'missing equals'"), '001003', /syntax error/);
    rejects(() => run("COMMENT ON TABLE analytics.sales.orders IS 'x' garbage"), '001003', /unexpected 'garbage'/);
    rejects(() => run('COMMENT ON COLUMN analytics.sales.orders.nope IS \'x\''), '000904', /invalid identifier 'NOPE'/);
  });

  it('sets and unsets tags on databases, schemas, tables and columns; a second SET overwrites', () => {
    const { engine, run } = account();
    run("ALTER DATABASE analytics SET TAG governance.tags.pii = 'db'");
    run("ALTER SCHEMA analytics.sales SET TAG governance.tags.pii = 'schema', governance.tags.cost_center = 'finance'");
    run("ALTER TABLE analytics.sales.orders SET TAG governance.tags.pii = 'table'");
    run("ALTER TABLE analytics.sales.orders MODIFY COLUMN email SET TAG governance.tags.pii = 'email'");
    run("ALTER TABLE analytics.sales.orders SET TAG governance.tags.pii = 'table v2'");
    const sales = engine.catalog.databases.get('ANALYTICS')?.schemas.get('SALES');
    const values = (node: { tags: Map<string, { value: string }> } | undefined) => [...(node?.tags.values() ?? [])].map((tag) => tag.value);
    assert.deepEqual(values(sales), ['schema', 'finance']);
    assert.deepEqual(values(sales?.tables.get('ORDERS')), ['table v2']);
    assert.deepEqual(values(sales?.tables.get('ORDERS')?.columns.get('EMAIL')), ['email']);
    run('ALTER SCHEMA analytics.sales UNSET TAG governance.tags.pii, governance.tags.cost_center');
    run('ALTER TABLE analytics.sales.orders MODIFY COLUMN email UNSET TAG governance.tags.pii');
    assert.deepEqual(values(sales), []);
    assert.deepEqual(values(sales?.tables.get('ORDERS')?.columns.get('EMAIL')), []);
  });

  it('refuses a missing tag object, a value outside ALLOWED_VALUES, a value over 256 characters and a 51st tag', () => {
    const { run } = account();
    rejects(() => run("ALTER TABLE analytics.sales.orders SET TAG governance.tags.nope = 'x'"), '002003', /Tag 'GOVERNANCE.TAGS.NOPE' does not exist or not authorized/);
    rejects(() => run("ALTER TABLE analytics.sales.orders SET TAG governance.tags.cost_center = 'sales'"), '003168', /not in the allowed values/);
    rejects(() => run(`ALTER TABLE analytics.sales.orders SET TAG governance.tags.pii = '${'x'.repeat(257)}'`), '001423', /256/);
    for (let i = 0; i < 50; i++) run(`CREATE TAG governance.tags.t${i}`);
    run(`ALTER TABLE analytics.sales.orders SET TAG ${Array.from({ length: 50 }, (_, i) => `governance.tags.t${i} = 'v'`).join(', ')}`);
    rejects(() => run("ALTER TABLE analytics.sales.orders SET TAG governance.tags.pii = 'one too many'"), '003167', /maximum of 50/);
  });

  it('CREATE TAG IF NOT EXISTS is idempotent; CREATE TAG of an existing one fails', () => {
    const { run } = account();
    run('CREATE TAG IF NOT EXISTS governance.tags.pii');
    rejects(() => run('CREATE TAG governance.tags.pii'), '002002', /already exists/);
  });

  it('GRANT OWNERSHIP ... COPY CURRENT GRANTS to an existing role; a missing role and a non-owner are refused', () => {
    const { engine, run, session } = account();
    run('CREATE ROLE data_platform');
    run('GRANT OWNERSHIP ON TABLE analytics.sales.orders TO ROLE data_platform COPY CURRENT GRANTS');
    run('GRANT OWNERSHIP ON SCHEMA analytics.sales TO ROLE data_platform REVOKE CURRENT GRANTS');
    run('GRANT OWNERSHIP ON DATABASE analytics TO ROLE data_platform');
    assert.equal(engine.catalog.databases.get('ANALYTICS')?.schemas.get('SALES')?.tables.get('ORDERS')?.owner, 'DATA_PLATFORM');
    rejects(() => run('GRANT OWNERSHIP ON TABLE analytics.sales.orders TO ROLE nobody COPY CURRENT GRANTS'), '002003', /Role 'NOBODY' does not exist/);
    rejects(() => run('GRANT OWNERSHIP ON TABLE analytics.sales.orders TO ROLE data_platform COPY GRANTS'), '001003', /syntax error/);
    session.role = 'PUBLIC';
    rejects(() => run("COMMENT ON TABLE analytics.sales.\"Orders\" IS 'x'"), '003001', /Insufficient privileges to operate on table/);
  });
});

describe('Snowflake emulator: catalog SELECTs evaluated over its state', () => {
  it('INFORMATION_SCHEMA views with WHERE, IN, LIKE, IS NULL, ORDER BY and a join', () => {
    const { run } = account();
    run("COMMENT ON TABLE analytics.sales.orders IS 'o'");
    assert.deepEqual(
      run("SELECT table_name, table_type, comment FROM analytics.information_schema.tables WHERE table_schema IN ('SALES') AND comment IS NULL ORDER BY table_name DESC"),
      [['Orders', 'BASE TABLE', null], ['ORDER_EMAILS', 'VIEW', null]],
    );
    assert.deepEqual(run("SELECT column_name FROM analytics.information_schema.columns WHERE table_name LIKE 'ORDER\\\\_%' OR table_name = 'Orders' ORDER BY 1"), [['EMAIL'], ['ID'], ['ID']]);
    assert.deepEqual(
      run(
        "SELECT t.table_name, c.column_name FROM analytics.information_schema.tables t JOIN analytics.information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name WHERE t.comment = 'o' ORDER BY c.ordinal_position",
      ),
      [['ORDERS', 'ID'], ['ORDERS', 'EMAIL']],
    );
  });

  it('TAG_REFERENCES functions include inherited tags with their LEVEL; ACCOUNT_USAGE shows direct ones, and lags when frozen', () => {
    const { engine, run } = account();
    run("ALTER SCHEMA analytics.sales SET TAG governance.tags.pii = 'schema'");
    run("ALTER TABLE analytics.sales.orders MODIFY COLUMN email SET TAG governance.tags.pii = 'email'");
    assert.deepEqual(
      run("SELECT column_name, tag_value, level FROM TABLE(analytics.information_schema.tag_references_all_columns('analytics.sales.orders', 'table')) ORDER BY column_name"),
      [['EMAIL', 'email', 'COLUMN'], ['ID', 'schema', 'SCHEMA']],
    );
    assert.deepEqual(run("SELECT tag_value, level FROM TABLE(analytics.information_schema.tag_references('analytics.sales.orders', 'table'))"), [['schema', 'SCHEMA']]);
    engine.freezeAccountUsage();
    run("ALTER TABLE analytics.sales.orders SET TAG governance.tags.pii = 'later'");
    assert.deepEqual(run('SELECT domain, object_name, column_name, tag_value FROM snowflake.account_usage.tag_references ORDER BY domain'), [
      ['COLUMN', 'ORDERS', 'EMAIL', 'email'],
      ['SCHEMA', 'SALES', null, 'schema'],
    ]);
    rejects(() => run("SELECT * FROM TABLE(analytics.information_schema.tag_references_all_columns('analytics.sales.orders', 'column'))"), '001044', /Only TABLE/);
  });

  it('SHOW TAGS IN SCHEMA lists tag objects with their allowed values', () => {
    const { run } = account();
    assert.deepEqual(
      run('SHOW TAGS IN SCHEMA governance.tags').map((row) => [row[1], row[6]]),
      [['COST_CENTER', '["finance","engineering"]'], ['PII', null]],
    );
  });
});

describe('Snowflake emulator: protocol, through the unmodified snowflake-sdk', () => {
  let emulator: SnowflakeEmulator;
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  before(async () => {
    emulator = await startSnowflakeEmulator({
      chunkRows: 2,
      users: {
        metaform: { password: 'secret' },
        keyed: { publicKey: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
        oauth: { oauthToken: 'token-123' },
      },
    });
    emulator.run('CREATE DATABASE analytics');
    emulator.run('CREATE TABLE analytics.public.wide (a INT, b INT, c INT, d INT, e INT)');
  });
  after(() => emulator.close());

  const connect = async (options: Record<string, unknown>) => {
    const sdk = await loadSnowflakeDriver();
    const connection = sdk.createConnection({ account: 'emulated', accessUrl: emulator.url, ...options } as Parameters<typeof sdk.createConnection>[0]);
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    const query = (sqlText: string) =>
      new Promise<unknown[][]>((resolve, reject) =>
        connection.execute({ sqlText, rowMode: 'array', complete: (error, _statement, rows) => (error ? reject(error) : resolve((rows ?? []) as unknown[][])) }),
      );
    return { query, close: () => new Promise<void>((resolve) => connection.destroy(() => resolve())) };
  };

  it('logs in with a password, a key pair and an OAuth token; a wrong password gets 390100', async () => {
    for (const options of [
      { username: 'metaform', password: 'secret' },
      { username: 'keyed', authenticator: 'SNOWFLAKE_JWT', privateKey: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() },
      { username: 'oauth', authenticator: 'OAUTH', token: 'token-123' },
    ]) {
      const session = await connect(options);
      assert.deepEqual(await session.query("SELECT 'ok' AS status FROM analytics.information_schema.databases"), [['ok']]);
      await session.close();
    }
    await assert.rejects(connect({ username: 'metaform', password: 'wrong' }), (error: { code?: unknown; message: string }) => {
      assert.equal(String(error.code), '390100');
      assert.match(error.message, /Incorrect username or password/);
      return true;
    });
  });

  it('answers results inline, after polling, and in chunks; errors carry code and SQL state', async () => {
    const session = await connect({ username: 'metaform', password: 'secret' });
    emulator.pollNextQueries = 1;
    const rows = await session.query('SELECT column_name, ordinal_position FROM analytics.information_schema.columns ORDER BY ordinal_position');
    assert.deepEqual(rows, [['A', 1], ['B', 2], ['C', 3], ['D', 4], ['E', 5]]);
    assert.ok(emulator.requests.some((request) => request.startsWith('GET /chunks/')));
    assert.ok(emulator.requests.some((request) => /^GET \/queries\/[0-9a-f-]{36}\/result/.test(request)));
    await assert.rejects(session.query('SELEC 1'), (error: { code?: unknown; sqlState?: unknown }) => {
      assert.equal(String(error.code), '001003');
      assert.equal(error.sqlState, '42000');
      return true;
    });
    await session.close();
    assert.ok(emulator.requests.every((request) => /^(POST|GET) \/(session|queries|chunks|telemetry)/.test(request)), 'only the emulator was asked');
  });
});
