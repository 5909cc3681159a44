/**
 * The Athena emulator on its own, through the unmodified @aws-sdk/client-athena: what it accepts
 * and what it refuses, each rule from the page cited in test/emulators/athena/.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  GetTableMetadataCommand,
  ListDataCatalogsCommand,
  ListDatabasesCommand,
  ListTableMetadataCommand,
  StartQueryExecutionCommand,
  paginateListTableMetadata,
} from '@aws-sdk/client-athena';
import { tokenize } from './emulators/athena/lexer.js';
import { startAthenaEmulator, type AthenaEmulator } from './emulators/athena/server.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true';

const literal = (sql: string) => tokenize(sql).find((token) => token.kind === 'string')?.value;

describe('Athena emulator: the Hive DDL lexer', () => {
  it('reads backslash escapes, unicode and octal escapes as unescapeSQLString does', () => {
    assert.equal(literal(String.raw`'it\'s \\ a \"q\" \n\t \u00e9 \101'`), 'it\'s \\ a "q" \n\t é A');
    assert.equal(literal(`"double 'quoted'"`), "double 'quoted'");
    assert.equal(literal(String.raw`'\%\_\x'`), '\\%\\_x', '\\% and \\_ keep their backslash; any other \\x is x');
  });

  it("joins adjacent literals, so a doubled quote is no quote: 'it''s' is its", () => {
    assert.equal(literal("'it''s'"), 'its');
    assert.equal(tokenize("'a' 'b'").filter((token) => token.kind === 'string').length, 2, 'with a space between they are two tokens');
  });

  it('refuses an unterminated literal (a trailing backslash escapes the closing quote)', () => {
    assert.throws(() => tokenize(String.raw`'back\'`), /unterminated string literal/);
    assert.throws(() => tokenize("'open"), /unterminated string literal/);
  });

  it('reads backquoted identifiers with doubled backquotes, folded to lower case, and hides comments', () => {
    const tokens = tokenize('`Odd``Name` -- note\n /* block */ x');
    assert.deepEqual(
      tokens.map((token) => [token.kind, token.value]),
      [
        ['ident', 'odd`name'],
        ['ident', 'x'],
        ['end', ''],
      ],
    );
  });
});

describe('Athena emulator: awsJson1_1 through @aws-sdk/client-athena', () => {
  let emulator: AthenaEmulator;
  let client: AthenaClient;
  const clientFor = (overrides: { accessKeyId?: string; secretAccessKey?: string } = {}) =>
    new AthenaClient({
      region: emulator.connection.region,
      endpoint: emulator.connection.endpoint,
      credentials: { accessKeyId: overrides.accessKeyId ?? emulator.connection.accessKeyId, secretAccessKey: overrides.secretAccessKey ?? emulator.connection.secretAccessKey },
      maxAttempts: 1,
    });
  const start = (sql: string, extra: object = {}) =>
    client.send(new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: 'primary', ResultConfiguration: { OutputLocation: emulator.connection.outputLocation }, ...extra }));
  const untilDone = async (id: string) => {
    const states: string[] = [];
    for (;;) {
      const status = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution?.Status;
      states.push(status?.State ?? '');
      if (status?.State !== 'QUEUED' && status?.State !== 'RUNNING') return { states, status };
    }
  };

  before(async () => {
    emulator = await startAthenaEmulator({
      principals: [
        { name: 'metaform-ci', accessKeyId: 'AKIAMETAFORM', secretAccessKey: 'secret-a', allow: ['athena:*', 'glue:GetTable', 'glue:GetTables', 'glue:GetDatabases', 'glue:UpdateTable'] },
        { name: 'reader', accessKeyId: 'AKIAREADER', secretAccessKey: 'secret-b', allow: ['athena:*', 'glue:GetTable', 'glue:GetTables', 'glue:GetDatabases'] },
      ],
    });
    emulator.run('CREATE DATABASE sales');
    emulator.run("CREATE EXTERNAL TABLE sales.orders (id bigint, items array<struct<sku:string,qty:int>> COMMENT 'lines') COMMENT 'Orders' PARTITIONED BY (day string) LOCATION 's3://b/o/' TBLPROPERTIES ('has_encrypted_data' = 'false')");
    emulator.run('CREATE VIEW sales.v_orders AS SELECT id FROM sales.orders');
    for (let i = 0; i < 120; i++) emulator.run(`CREATE EXTERNAL TABLE sales.t${String(i).padStart(3, '0')} (c int)`);
    emulator.catalogs.addCatalog('lake');
    client = clientFor();
  });
  after(async () => {
    client.destroy();
    await emulator.close();
  });

  it('runs ALTER TABLE SET TBLPROPERTIES through QUEUED, RUNNING, SUCCEEDED, keeping the other properties', async () => {
    const { QueryExecutionId = '' } = await start(String.raw`ALTER TABLE sales.orders SET TBLPROPERTIES ('comment' = 'it\'s new')`);
    const { states } = await untilDone(QueryExecutionId);
    assert.deepEqual(states, ['QUEUED', 'RUNNING', 'SUCCEEDED']);
    const { TableMetadata } = await client.send(new GetTableMetadataCommand({ CatalogName: 'awsdatacatalog', DatabaseName: 'sales', TableName: 'orders' }));
    assert.deepEqual(TableMetadata?.Parameters, { EXTERNAL: 'TRUE', comment: "it's new", has_encrypted_data: 'false' });
    assert.equal(TableMetadata?.Columns?.[1]?.Type, 'array<struct<sku:string,qty:int>>');
    assert.equal(TableMetadata?.PartitionKeys?.[0]?.Name, 'day');
    const results = await client.send(new GetQueryResultsCommand({ QueryExecutionId }));
    assert.deepEqual(results.ResultSet?.Rows, []);
  });

  it('refuses a statement that does not parse at StartQueryExecution, with InvalidRequestException and AthenaErrorCode', async () => {
    await assert.rejects(start("ALTER TABLE sales.orders SET TBLPROPERTIES ('comment' = 'it's')"), (error: Error & { AthenaErrorCode?: string }) => {
      assert.equal(error.name, 'InvalidRequestException');
      assert.equal(error.AthenaErrorCode, 'INVALID_INPUT');
      assert.match(error.message, /^line 1:\d+: /);
      return true;
    });
    await assert.rejects(start('DROP TABLE sales.orders'), /mismatched input 'drop'/, 'a caller runs only the statements metaform sends');
  });

  it('ends a statement that cannot run FAILED with StateChangeReason and AthenaError: a missing table, a view, a denied glue:UpdateTable', async () => {
    const missing = await untilDone((await start("ALTER TABLE sales.nope SET TBLPROPERTIES ('comment' = 'x')")).QueryExecutionId ?? '');
    assert.equal(missing.status?.State, 'FAILED');
    assert.match(missing.status?.StateChangeReason ?? '', /Table nope not found/);
    assert.equal(missing.status?.AthenaError?.ErrorCategory, 2);
    const view = await untilDone((await start("ALTER TABLE sales.v_orders SET TBLPROPERTIES ('comment' = 'x')")).QueryExecutionId ?? '');
    assert.match(view.status?.StateChangeReason ?? '', /ALTER VIEW/);
    const reader = clientFor({ accessKeyId: 'AKIAREADER', secretAccessKey: 'secret-b' });
    try {
      const { QueryExecutionId = '' } = await reader.send(
        new StartQueryExecutionCommand({ QueryString: "ALTER TABLE sales.orders SET TBLPROPERTIES ('comment' = 'x')", ResultConfiguration: { OutputLocation: 's3://r/' } }),
      );
      const status = (await reader.send(new GetQueryExecutionCommand({ QueryExecutionId }))).QueryExecution?.Status;
      assert.equal(status?.State, 'QUEUED');
      assert.equal(emulator.catalogs.table('awsdatacatalog', 'sales', 'orders').Parameters['comment'], "it's new", 'the denied ALTER changed nothing');
      const final = emulator.queries.at(-1)?.final;
      assert.match(final?.state === 'FAILED' ? final.reason : '', /AccessDeniedException: User: arn:aws:iam::123456789012:user\/reader is not authorized to perform: glue:UpdateTable on resource: arn:aws:glue:us-east-1:123456789012:table\/sales\/orders/);
      await assert.rejects(reader.send(new GetQueryResultsCommand({ QueryExecutionId })), /Query has not yet finished. Current state: QUEUED/);
    } finally {
      reader.destroy();
    }
  });

  it('refuses a query with no output location, in an unknown workgroup, and one unsigned or signed with the wrong secret', async () => {
    await assert.rejects(client.send(new StartQueryExecutionCommand({ QueryString: 'SHOW TABLES IN sales' })), /No output location provided/);
    await assert.rejects(start('SHOW TABLES IN sales', { WorkGroup: 'nope' }), /WorkGroup nope is not found/);
    const wrong = clientFor({ secretAccessKey: 'not-the-secret' });
    await assert.rejects(wrong.send(new ListDatabasesCommand({ CatalogName: 'awsdatacatalog' })), { name: 'InvalidSignatureException' });
    wrong.destroy();
    const unknown = clientFor({ accessKeyId: 'AKIANOBODY' });
    await assert.rejects(unknown.send(new ListDatabasesCommand({ CatalogName: 'awsdatacatalog' })), { name: 'UnrecognizedClientException' });
    unknown.destroy();
    const response = await fetch(emulator.url, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonAthena.ListDatabases' }, body: '{"CatalogName":"awsdatacatalog"}' });
    assert.equal(response.status, 403);
    assert.equal(((await response.json()) as { __type: string }).__type, 'MissingAuthenticationTokenException');
  });

  it('pages ListTableMetadata by 50 at most, ListDatabases and ListDataCatalogs by their limits, and refuses others', async () => {
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateListTableMetadata({ client, pageSize: 50 }, { CatalogName: 'awsdatacatalog', DatabaseName: 'sales' })) {
      pages++;
      for (const table of page.TableMetadataList ?? []) names.push(table.Name ?? '');
    }
    assert.equal(names.length, 122);
    assert.equal(pages, 3);
    await assert.rejects(client.send(new ListTableMetadataCommand({ CatalogName: 'awsdatacatalog', DatabaseName: 'sales', MaxResults: 51 })), /Member must have value less than or equal to 50/);
    await assert.rejects(client.send(new ListDataCatalogsCommand({ MaxResults: 1 })), /Member must have value greater than or equal to 2/);
    await assert.rejects(client.send(new ListTableMetadataCommand({ CatalogName: 'awsdatacatalog', DatabaseName: 'sales', NextToken: 'bogus' })), /Invalid NextToken/);
    const catalogs = await client.send(new ListDataCatalogsCommand({}));
    assert.deepEqual(catalogs.DataCatalogsSummary?.map((catalog) => catalog.CatalogName), ['awsdatacatalog', 'lake']);
    const first = await client.send(new ListDatabasesCommand({ CatalogName: 'awsdatacatalog', MaxResults: 1 }));
    assert.deepEqual(first.DatabaseList?.map((database) => database.Name), ['sales']);
    assert.equal(first.NextToken, undefined);
    await assert.rejects(client.send(new ListTableMetadataCommand({ CatalogName: 'awsdatacatalog', DatabaseName: 'nope' })), { name: 'MetadataException' });
  });

  it('pages GetQueryResults of SHOW TABLES with NextToken', async () => {
    const { QueryExecutionId = '' } = await start('SHOW TABLES IN sales');
    await untilDone(QueryExecutionId);
    const first = await client.send(new GetQueryResultsCommand({ QueryExecutionId, MaxResults: 100 }));
    assert.equal(first.ResultSet?.Rows?.length, 100);
    assert.ok(first.NextToken);
    const second = await client.send(new GetQueryResultsCommand({ QueryExecutionId, NextToken: first.NextToken }));
    assert.equal(second.ResultSet?.Rows?.length, 22);
    await assert.rejects(client.send(new GetQueryResultsCommand({ QueryExecutionId, MaxResults: 1001 })), /less than or equal to 1000/);
  });

  it('returns the same query for a repeated ClientRequestToken, and answers a throttled or failing call as the SDK expects', async () => {
    const token = 'a'.repeat(40);
    const a = await start('SHOW TABLES IN sales', { ClientRequestToken: token });
    const b = await start('SHOW TABLES IN sales', { ClientRequestToken: token });
    assert.equal(a.QueryExecutionId, b.QueryExecutionId);
    emulator.failNext('ListDatabases', 1, 'throttle');
    await assert.rejects(client.send(new ListDatabasesCommand({ CatalogName: 'awsdatacatalog' })), { name: 'TooManyRequestsException' });
    emulator.failNext('ListDatabases', 1, 'internal');
    await assert.rejects(client.send(new ListDatabasesCommand({ CatalogName: 'awsdatacatalog' })), { name: 'InternalServerException' });
    emulator.failNext('ListDatabases', 1, 'reset');
    await assert.rejects(client.send(new ListDatabasesCommand({ CatalogName: 'awsdatacatalog' })), /socket hang up|ECONNRESET/);
  });
});
