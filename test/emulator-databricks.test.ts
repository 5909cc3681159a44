import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DBSQLClient } from '@databricks/sql';
import { EmulatedAccount } from './emulators/databricks/catalog.js';
import { DatabricksEngine } from './emulators/databricks/engine.js';
import { DatabricksSqlError, tokenize } from './emulators/databricks/lexer.js';
import { startDatabricksEmulator, type DatabricksEmulator } from './emulators/databricks/server.js';

function account(): EmulatedAccount {
  const account = new EmulatedAccount();
  account.addPrincipal('jane@corp.com', 'data-platform', 'sp-etl');
  const main = account.addCatalog('main', { owner: 'data-platform' });
  const sales = account.addSchema(main, 'sales');
  account.addTable(sales, 'orders', ['id', 'Email']);
  account.addTable(sales, 'v_orders', ['id'], { type: 'VIEW' });
  account.addTable(sales, 'mv', ['id'], { type: 'MATERIALIZED_VIEW' });
  const hive = account.addCatalog('hive_metastore', { unity: false });
  account.addTable(account.addSchema(hive, 'default'), 'legacy', ['a']);
  return account;
}

const namespace = { catalog: 'main', schema: 'default' };

function rejects(engine: DatabricksEngine, sql: string, errorClass: RegExp): void {
  assert.throws(
    () => engine.run(sql, namespace),
    (error: unknown) => error instanceof DatabricksSqlError && errorClass.test(error.errorClass),
    sql,
  );
}

describe('Databricks emulator: lexer', () => {
  it('reads backslash escapes, raw strings and doubled backquotes as Spark does', () => {
    const [literal, raw, ident] = tokenize(String.raw`'it\'s \\ \n' r'C:\path' ` + '`a``b`');
    assert.deepEqual([literal?.text, raw?.text, ident?.text], ["it's \\ \n", 'C:\\path', 'a`b']);
  });

  it('reads three-digit octal escapes, and ends a raw string at its first quote, backslash or not', () => {
    const [octal, nul] = tokenize(String.raw`'\101\0627' '\0x'`);
    assert.deepEqual([octal?.text, nul?.text], ['A27', '\0x']);
    const tokens = tokenize(String.raw`r'a\' 'b'`);
    assert.deepEqual(tokens.map((token) => [token.kind, token.text]), [['string', 'a\\'], ['string', 'b'], ['end', '']]);
  });
});

describe('Databricks emulator: statements accepted and rejected', () => {
  it('accepts the documented comment, owner and tag statements and changes the state', () => {
    const state = account();
    const engine = new DatabricksEngine(state);
    const run = (sql: string) => engine.run(sql, namespace);
    run("COMMENT ON CATALOG `main` IS 'Main'");
    run("COMMENT ON SCHEMA main.`sales` IS 'it\\'s'");
    run('COMMENT ON TABLE `main`.`sales`.`orders` IS NULL');
    run("ALTER TABLE main.sales.orders ALTER COLUMN `email` COMMENT 'mail'");
    run('ALTER CATALOG main OWNER TO `jane@corp.com`');
    run('ALTER SCHEMA main.sales SET OWNER TO `data-platform`');
    run("ALTER TABLE main.sales.orders SET TAGS ('pii' = 'yes', 'tier' = '')");
    run("ALTER TABLE main.sales.orders ALTER COLUMN id SET TAGS ('k' = 'v')");
    run("ALTER TABLE main.sales.orders UNSET TAGS ('tier', 'never-set')");
    run("ALTER VIEW main.sales.v_orders SET TAGS ('k' = 'v')");
    run('ALTER MATERIALIZED VIEW main.sales.mv SET OWNER TO `sp-etl`');
    run("ALTER MATERIALIZED VIEW main.sales.mv ALTER COLUMN id COMMENT 'mv id'");
    run("COMMENT ON COLUMN main.sales.v_orders.id IS 'view id'");
    run('SET TAG ON COLUMN main.sales.v_orders.id `pii`');
    const main = state.catalogs.get('main');
    const orders = main?.schemas.get('sales')?.tables.get('orders');
    assert.equal(main?.comment, 'Main');
    assert.equal(main?.owner, 'jane@corp.com');
    assert.equal(main?.schemas.get('sales')?.comment, "it's");
    assert.equal(orders?.comment, null);
    assert.equal(orders?.columns.get('email')?.comment, 'mail');
    assert.deepEqual([...(orders?.tags ?? [])], [['pii', 'yes']]);
    assert.deepEqual([...(orders?.columns.get('id')?.tags ?? [])], [['k', 'v']]);
    assert.equal(main?.schemas.get('sales')?.tables.get('mv')?.owner, 'sp-etl');
    assert.equal(main?.schemas.get('sales')?.tables.get('mv')?.columns.get('id')?.comment, 'mv id');
    assert.equal(main?.schemas.get('sales')?.tables.get('v_orders')?.columns.get('id')?.comment, 'view id');
    assert.deepEqual([...(main?.schemas.get('sales')?.tables.get('v_orders')?.columns.get('id')?.tags ?? [])], [['pii', '']]);
  });

  it("rejects '' inside a COMMENT or a tag (two adjacent literals), but joins them in an expression as Spark does", () => {
    const engine = new DatabricksEngine(account());
    rejects(engine, "COMMENT ON TABLE main.sales.orders IS 'It''s'", /^PARSE_SYNTAX_ERROR$/);
    rejects(engine, "ALTER TABLE main.sales.orders SET TAGS ('k' = 'a''b')", /^PARSE_SYNTAX_ERROR$/);
    const result = engine.run("SELECT table_name FROM system.information_schema.tables WHERE table_name = 'ord''ers'", namespace);
    assert.deepEqual(result?.rows, [['orders']]);
  });

  it('rejects unknown objects, unknown principals, the wrong object keyword and syntax errors with Databricks error classes', () => {
    const engine = new DatabricksEngine(account());
    rejects(engine, "COMMENT ON CATALOG nope IS 'x'", /^NO_SUCH_CATALOG_EXCEPTION$/);
    rejects(engine, "COMMENT ON SCHEMA main.nope IS 'x'", /^SCHEMA_NOT_FOUND$/);
    rejects(engine, "COMMENT ON TABLE main.sales.nope IS 'x'", /^TABLE_OR_VIEW_NOT_FOUND$/);
    rejects(engine, "ALTER TABLE main.sales.orders ALTER COLUMN nope COMMENT 'x'", /^UNRESOLVED_COLUMN/);
    rejects(engine, 'ALTER TABLE main.sales.orders OWNER TO `nobody@corp.com`', /^PRINCIPAL_DOES_NOT_EXIST$/);
    rejects(engine, "ALTER TABLE main.sales.v_orders SET TAGS ('k' = 'v')", /^EXPECT_TABLE_NOT_VIEW/);
    rejects(engine, "ALTER VIEW main.sales.orders SET TAGS ('k' = 'v')", /^EXPECT_VIEW_NOT_TABLE/);
    rejects(engine, "COMMENT ON TABLE main.sales.orders IS 'x' frobnicate", /^PARSE_SYNTAX_ERROR$/);
    rejects(engine, 'COMMENT ON TABLE main.sales.orders IS "unterminated', /^PARSE_SYNTAX_ERROR$/);
    rejects(engine, "ALTER VIEW main.sales.v_orders ALTER COLUMN id COMMENT 'x'", /^PARSE_SYNTAX_ERROR$/);
    rejects(engine, "ALTER VIEW main.sales.v_orders ALTER COLUMN id SET TAGS ('k' = 'v')", /^PARSE_SYNTAX_ERROR$/);
    rejects(engine, 'ALTER MATERIALIZED VIEW main.sales.mv OWNER TO `sp-etl`', /^PARSE_SYNTAX_ERROR$/);
  });

  it('enforces the documented tag limits: 50 per object, keys of 255 characters without . , - = / :, values of 1,000', () => {
    const engine = new DatabricksEngine(account());
    for (const bad of ['a.b', 'a,b', 'a-b', 'a=b', 'a/b', 'a:b', 'k'.repeat(256)])
      rejects(engine, `ALTER TABLE main.sales.orders SET TAGS ('${bad}' = 'v')`, /^INVALID_PARAMETER_VALUE\.INVALID_TAG_KEY$/);
    rejects(engine, `ALTER TABLE main.sales.orders SET TAGS ('k' = '${'v'.repeat(1001)}')`, /^INVALID_PARAMETER_VALUE\.INVALID_TAG_VALUE$/);
    engine.run(`ALTER TABLE main.sales.orders SET TAGS ('${'k'.repeat(255)}' = '${'v'.repeat(1000)}')`, namespace);
    const fifty = Array.from({ length: 49 }, (_, i) => `'t${i}' = ''`).join(', ');
    engine.run(`ALTER TABLE main.sales.orders SET TAGS (${fifty})`, namespace);
    rejects(engine, "ALTER TABLE main.sales.orders SET TAGS ('one_more' = '')", /^INVALID_PARAMETER_VALUE\.TOO_MANY_TAGS$/);
  });

  it('SET TAG ON refuses a key already set and UNSET TAG ON a missing one; ALTER ... UNSET TAGS does not', () => {
    const engine = new DatabricksEngine(account());
    engine.run('SET TAG ON TABLE main.sales.orders `cost_center` = `hr`', namespace);
    rejects(engine, 'SET TAG ON TABLE main.sales.orders `cost_center` = `it`', /^TAG_ALREADY_EXISTS$/);
    engine.run('UNSET TAG ON TABLE main.sales.orders `cost_center`', namespace);
    rejects(engine, 'UNSET TAG ON TABLE main.sales.orders `cost_center`', /^TAG_NOT_FOUND$/);
    engine.run("ALTER TABLE main.sales.orders UNSET TAGS ('cost_center')", namespace);
  });

  it('hive_metastore: comments on schemas, tables and columns work; owners, tags and the catalog comment do not; information_schema leaves it out', () => {
    const engine = new DatabricksEngine(account());
    engine.run("COMMENT ON TABLE hive_metastore.default.legacy IS 'old'", namespace);
    engine.run("ALTER TABLE hive_metastore.default.legacy ALTER COLUMN a COMMENT 'A'", namespace);
    rejects(engine, "ALTER TABLE hive_metastore.default.legacy SET TAGS ('k' = 'v')", /^UC_NOT_ENABLED$/);
    rejects(engine, 'ALTER TABLE hive_metastore.default.legacy OWNER TO `jane@corp.com`', /^UC_NOT_ENABLED$/);
    rejects(engine, "COMMENT ON CATALOG hive_metastore IS 'x'", /^UC_NOT_ENABLED$/);
    const catalogs = engine.run('SELECT catalog_name FROM system.information_schema.catalogs', namespace);
    assert.deepEqual(catalogs?.rows, [['main']]);
    rejects(engine, 'SELECT * FROM hive_metastore.information_schema.tables', /^TABLE_OR_VIEW_NOT_FOUND$/);
  });

  it('answers SHOW SCHEMAS, SHOW TABLES, DESCRIBE SCHEMA and DESCRIBE TABLE EXTENDED in Spark’s layout (hive_metastore has no information_schema)', () => {
    const engine = new DatabricksEngine(account());
    engine.run("COMMENT ON TABLE hive_metastore.default.legacy IS 'old'", namespace);
    engine.run("ALTER TABLE hive_metastore.default.legacy ALTER COLUMN a COMMENT 'A'", namespace);
    assert.deepEqual(engine.run('SHOW SCHEMAS IN hive_metastore', namespace)?.rows, [['default']]);
    assert.deepEqual(engine.run('SHOW TABLES IN hive_metastore.default', namespace)?.rows, [['default', 'legacy', 'false']]);
    assert.deepEqual(engine.run('DESCRIBE SCHEMA EXTENDED hive_metastore.`default`', namespace)?.rows[2], ['Comment', '']);
    const table = engine.run('DESCRIBE TABLE EXTENDED hive_metastore.default.legacy', namespace);
    assert.deepEqual(table?.columns.map((column) => column.name), ['col_name', 'data_type', 'comment']);
    assert.deepEqual(table?.rows[0], ['a', 'string', 'A']);
    assert.deepEqual(table?.rows[1], ['', '', '']);
    assert.ok(table?.rows.some((row) => row[0] === 'Comment' && row[1] === 'old'));
    rejects(engine, 'DESCRIBE TABLE hive_metastore.default.nope', /^TABLE_OR_VIEW_NOT_FOUND$/);
  });

  it('evaluates information_schema SELECTs over the state: projection, =, IN, IS NULL, AND/OR, ORDER BY', () => {
    const state = account();
    const engine = new DatabricksEngine(state);
    engine.run("ALTER TABLE main.sales.orders ALTER COLUMN id SET TAGS ('pii' = '')", namespace);
    const columns = engine.run(
      "SELECT column_name, ordinal_position FROM system.information_schema.columns WHERE table_catalog = 'main' AND table_name IN ('orders', 'x') AND comment IS NULL ORDER BY ordinal_position DESC",
      namespace,
    );
    assert.deepEqual(columns?.rows, [
      ['Email', 1],
      ['id', 0],
    ]);
    const tags = engine.run('SELECT column_name, tag_name, tag_value FROM main.information_schema.column_tags', namespace);
    assert.deepEqual(tags?.rows, [['id', 'pii', '']]);
    const either = engine.run("SELECT table_name FROM system.information_schema.tables WHERE table_type = 'VIEW' OR table_type = 'MATERIALIZED_VIEW' ORDER BY table_name", namespace);
    assert.deepEqual(either?.rows, [['mv'], ['v_orders']]);
    rejects(engine, 'SELECT nope FROM system.information_schema.tables', /^UNRESOLVED_COLUMN/);
    rejects(engine, 'SELECT * FROM system.information_schema.nope', /^TABLE_OR_VIEW_NOT_FOUND$/);
  });
});

describe('Databricks emulator: the HiveServer2 protocol through the real @databricks/sql client', () => {
  let emulator: DatabricksEmulator;
  before(async () => {
    emulator = await startDatabricksEmulator({ account: account() });
  });
  after(() => emulator.close());

  const connect = async (token = emulator.token, path = emulator.path) => {
    const client = new DBSQLClient({ logger: { log: () => undefined } as never });
    await client.connect({ host: emulator.host, port: emulator.port, path, token, customCaCert: emulator.certificate, telemetryEnabled: false } as never);
    return client;
  };

  it('opens a session, runs DDL and SELECTs with column-based results, reports both kinds of error, closes', async () => {
    const client = await connect();
    const session = await client.openSession({ initialCatalog: 'main' });
    const run = async (sql: string) => {
      const operation = await session.executeStatement(sql);
      await operation.finished();
      const rows = await operation.fetchAll();
      await operation.close();
      return rows;
    };
    assert.deepEqual(await run("COMMENT ON TABLE sales.orders IS 'it\\'s\\n'"), []);
    assert.deepEqual(await run("SELECT table_name, comment FROM information_schema.tables WHERE table_name = 'orders'"), [{ table_name: 'orders', comment: "it's\n" }]);
    assert.deepEqual(await run("SELECT column_name, ordinal_position FROM system.information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position"), [
      { column_name: 'id', ordinal_position: 0 },
      { column_name: 'Email', ordinal_position: 1 },
    ]);
    // The client's StatusError is not an Error subclass: match on its message.
    const message = (pattern: RegExp) => (error: unknown) => pattern.test(String((error as { message?: unknown }).message));
    await assert.rejects(run("COMMENT ON TABLE sales.orders IS 'a''b'"), message(/\[PARSE_SYNTAX_ERROR\]/));
    await assert.rejects(run("COMMENT ON TABLE sales.nope IS 'x'"), message(/\[TABLE_OR_VIEW_NOT_FOUND\].*SQLSTATE: 42P01/));
    await session.close();
    await client.close();
  });

  it('answers the metadata calls it does not serve with an error status, and keeps serving', async () => {
    const client = await connect();
    const session = await client.openSession();
    await assert.rejects(session.getCatalogs(), (error: unknown) => /GetCatalogs is not served by the Databricks emulator/.test(String((error as { message?: unknown }).message)));
    const operation = await session.executeStatement('SELECT catalog_name FROM system.information_schema.catalogs');
    assert.deepEqual(await operation.fetchAll(), [{ catalog_name: 'main' }]);
    await session.close();
    await client.close();
  });

  it('answers a wrong token with HTTP 401 and a wrong path with 404, at openSession', async () => {
    const badToken = await connect('wrong');
    await assert.rejects(badToken.openSession(), /bad HTTP status code: 401/);
    await badToken.close();
    const badPath = await connect(emulator.token, '/sql/1.0/warehouses/nope');
    await assert.rejects(badPath.openSession(), /bad HTTP status code: 404/);
    await badPath.close();
  });
});
