/**
 * The mssql connector through the unmodified mssql/tedious client against the TDS emulator:
 * plan -> apply -> plan, hostile round trips, stale plans, lost connections, interrupts, the
 * apply lock, permission failures, import. Written as self-contained cases so they can move into
 * the shared contract suite as one entry.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { mssqlConnector } from '../../../src/connectors/mssql/index.js';
import { MssqlSession } from '../../../src/connectors/mssql/client.js';
import { OWNER_WARNING, quoteMssqlIdentifier, quoteMssqlLiteral, renderMssqlChange } from '../../../src/connectors/mssql/dialect.js';
import type { ServiceConfig } from '../../../src/connectors/types.js';
import { importService } from '../../../src/core/import.js';
import type { CatalogSnapshot, Change } from '../../../src/core/model.js';
import { applyPlan, createPlan } from '../../../src/core/pipeline.js';
import { loadProject } from '../../../src/core/project.js';
import { StalePlanError } from '../../../src/core/verify.js';
import { startMssqlEmulator, type MssqlEmulator } from '../../emulators/mssql/server.js';
import { converge } from '../../support/converge.js';
import { tempProject, type TempProject } from '../../support/project.js';
import { HOSTILE_DESCRIPTIONS } from '../../support/strings.js';

/** Descriptions that break naive T-SQL quoting, with the general hostile set. */
const MSSQL_HOSTILE = [...HOSTILE_DESCRIPTIONS, "N'prefixed' and N''doubled''", 'close ] bracket ]] and [open', "ends with a quote'", '𝄞'.repeat(1800)];

describe('SQL Server dialect', () => {
  it('quotes identifiers in brackets and literals as N strings', () => {
    assert.equal(quoteMssqlIdentifier('a]b'), '[a]]b]');
    assert.equal(quoteMssqlLiteral("it's N'x'"), "N'it''s N''x'''");
    assert.equal(quoteMssqlLiteral(null), 'NULL');
  });

  it('chooses add, update or drop from the live state, passes plain level names, warns on object owners', () => {
    const snapshot: CatalogSnapshot = {
      service: 'ms',
      server: {},
      queries: 0,
      databases: new Map([
        [
          'db',
          {
            level: 'database',
            name: 'db',
            children: new Map([
              [
                's]1',
                {
                  level: 'schema',
                  name: 's]1',
                  owner: 'dbo',
                  children: new Map([['v', { level: 'table', name: 'v', facts: { type: 'V', hasDescription: true }, children: new Map() }]]),
                },
              ],
            ]),
          },
        ],
      ]),
    };
    const service = { options: { tagPrefix: 'tag:' } };
    const change = (over: Partial<Change>): Change => ({ id: 'x', service: 'ms', address: 'a', path: ['db', 's]1', 'v'], level: 'table', property: 'description', action: 'update', before: '', after: 'new', ...over });
    assert.deepEqual(renderMssqlChange(change({}), snapshot, service), {
      statements: ["EXEC sys.sp_updateextendedproperty @name = N'MS_Description', @value = N'new', @level0type = N'SCHEMA', @level0name = N's]1', @level1type = N'VIEW', @level1name = N'v'"],
    });
    assert.deepEqual(renderMssqlChange(change({ path: ['db', 's]1'], level: 'schema', before: null, action: 'add' }), snapshot, service), {
      statements: ["EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = N'new', @level0type = N'SCHEMA', @level0name = N's]1'"],
    });
    assert.deepEqual(renderMssqlChange(change({ property: 'tag', key: 'pii', before: 'a', after: null, action: 'remove' }), snapshot, service), {
      statements: ["EXEC sys.sp_dropextendedproperty @name = N'tag:pii', @level0type = N'SCHEMA', @level0name = N's]1', @level1type = N'VIEW', @level1name = N'v'"],
    });
    assert.deepEqual(renderMssqlChange(change({ property: 'owner', before: 'jane', after: 'dbo' }), snapshot, service), {
      statements: [`ALTER AUTHORIZATION ON OBJECT::[s]]1].[v] TO SCHEMA OWNER ${OWNER_WARNING}`],
    });
    assert.deepEqual(renderMssqlChange(change({ property: 'owner', path: ['db'], level: 'database', after: 'app]login' }), snapshot, service), {
      statements: ['ALTER AUTHORIZATION ON DATABASE::[db] TO [app]]login]'],
    });
    assert.match(JSON.stringify(renderMssqlChange(change({ after: 'é'.repeat(3751) }), snapshot, service)), /7502 bytes as nvarchar; an extended property holds at most 7500/);
    assert.match(JSON.stringify(renderMssqlChange(change({ property: 'tag', key: 'k' }), snapshot, { options: {} })), /options\.tagPrefix/);
  });
});

describe('SQL Server driver loading', () => {
  it('does not load mssql or tedious to validate a project', async () => {
    const dir = await tempProject({ version: 1, services: { ms: { type: 'mssql', connection: { server: '127.0.0.1' } } } }, { 'metadata/ms.yaml': { service: 'ms', database: 'shop', description: 'x' } });
    try {
      const script = `
        import { createRequire } from 'node:module';
        const { loadProject } = await import(${JSON.stringify(new URL('../../../src/core/project.ts', import.meta.url).href)});
        await loadProject(${JSON.stringify(dir.dir)});
        const cache = createRequire(import.meta.url)('node:module')._cache;
        console.log(Object.keys(cache).filter((path) => /node_modules[\\/](mssql|tedious)[\\/]/.test(path)).length);`;
      const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(output.trim().split('\n').pop(), '0');
    } finally {
      await dir.remove();
    }
  });
});

describe('SQL Server end to end: mssql (tedious) against the TDS emulator', () => {
  let emulator: MssqlEmulator;
  const columns = MSSQL_HOSTILE.map((_, i) => `c${i}`);

  before(async () => {
    emulator = await startMssqlEmulator({ database: 'shop' });
    emulator.run(`
      CREATE USER jane WITHOUT LOGIN;
      CREATE SCHEMA sales;
      CREATE SCHEMA [Odd "Mart"]].v2];
      CREATE TABLE sales.Orders (id int NOT NULL, email nvarchar(200), ${columns.map((column) => `${column} int`).join(', ')});
      CREATE TABLE [Odd "Mart"]].v2].[Order's Items] ([Unit]]Price] decimal(10, 2));
      CREATE VIEW sales.open_orders AS SELECT id, email FROM sales.Orders;
      GRANT CONTROL ON SCHEMA::sales TO metaform_svc;
      GRANT ALTER ON SCHEMA::[Odd "Mart"]].v2] TO metaform_svc;
      GRANT IMPERSONATE ON USER::jane TO metaform_svc;
      GRANT SELECT ON OBJECT::sales.Orders TO jane;
      EXEC sys.sp_addextendedproperty @name = N'MS_DiagramPane1', @value = N'another tool', @level0type = N'SCHEMA', @level0name = N'sales', @level1type = N'TABLE', @level1name = N'Orders';
      EXEC sys.sp_addextendedproperty @name = N'MS_Description', @value = N'', @level0type = N'SCHEMA', @level0name = N'sales', @level1type = N'VIEW', @level1name = N'open_orders';
    `);
  });
  after(() => emulator.close());

  const service = (extra: object = {}) => ({ type: 'mssql', connection: emulator.connection, options: { tagPrefix: 'tag:' }, ...extra });
  const project = (metadata: object, extra: object = {}): Promise<TempProject> => tempProject({ version: 1, services: { ms: service(extra) } }, { 'metadata/ms.yaml': metadata });
  const property = (name: string, schema: string, table?: string, column?: string): unknown => {
    const where = `ep.name = N'${name.replaceAll("'", "''")}'`;
    const rows = emulator.run(`SELECT s.name AS s, o.name AS o, c.name AS c, CONVERT(nvarchar(4000), ep.value) AS v FROM sys.extended_properties ep
      LEFT JOIN sys.objects o ON o.object_id = ep.major_id LEFT JOIN sys.schemas s ON s.schema_id = o.schema_id
      LEFT JOIN sys.columns c ON c.object_id = ep.major_id AND c.column_id = ep.minor_id WHERE ${where} AND ep.class = 1`, 'shop').rows;
    return rows.find((row) => row[0] === schema && row[1] === table && (row[2] ?? undefined) === column)?.[3];
  };

  it('plans, applies and converges: hostile descriptions byte-identical, case-insensitive names, tags beside other tools\' properties, owners', async () => {
    const dir = await project({
      service: 'ms',
      database: 'shop',
      schemas: {
        sales: {
          description: "Sales 'mart'",
          tables: {
            // The database's collation is case-insensitive: `orders` is the table Orders.
            orders: {
              description: 'One row per order',
              owners: ['jane'],
              tags: { pii: 'yes', "tier ]'": "N'gold'" },
              columns: Object.fromEntries(MSSQL_HOSTILE.map((text, i) => [`C${i}`, text])),
            },
            open_orders: { description: 'the view, whose empty description exists', columns: { email: 'buyer' } },
          },
        },
        'Odd "Mart"].v2': { description: 'odd schema', tables: { "order's items": { columns: { 'Unit]Price': 'EUR' } } } },
      },
    });
    try {
      const { plan } = await createPlan(await loadProject(dir.dir));
      const owner = plan.operations.find((operation) => operation.statements[0]?.startsWith('ALTER AUTHORIZATION'));
      assert.deepEqual(owner?.statements, [`ALTER AUTHORIZATION ON OBJECT::[sales].[Orders] TO [jane] ${OWNER_WARNING}`]);
      assert.ok(plan.operations.some((operation) => operation.statements[0]?.startsWith("EXEC sys.sp_updateextendedproperty @name = N'MS_Description', @value = N'the view")));
      await converge(dir);
    } finally {
      await dir.remove();
    }
    MSSQL_HOSTILE.forEach((text, i) => assert.equal(property('MS_Description', 'sales', 'Orders', `c${i}`), text, `column c${i}`));
    assert.equal(property('tag:tier ]\'', 'sales', 'Orders'), "N'gold'");
    assert.equal(property('MS_DiagramPane1', 'sales', 'Orders'), 'another tool', "another tool's property is never touched");
    assert.equal(property('MS_Description', 'Odd "Mart"].v2', "Order's Items", 'Unit]Price'), 'EUR');
    // ALTER AUTHORIZATION dropped jane's earlier SELECT grant, as the plan warned.
    assert.deepEqual(emulator.engine.database('shop')?.grants.filter((grant) => grant.permission === 'SELECT'), []);
  });

  it('refuses a stale saved plan', async () => {
    const dir = await project({ service: 'ms', database: 'shop', schemas: { sales: { tables: { Orders: { description: 'fresh' } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      emulator.run(`EXEC sys.sp_updateextendedproperty N'MS_Description', N'changed meanwhile', N'SCHEMA', N'sales', N'TABLE', N'Orders'`, 'shop');
      await assert.rejects(applyPlan(loaded, plan), StalePlanError);
      await converge(dir);
    } finally {
      await dir.remove();
    }
  });

  it('sends a batch again after the connection is lost mid-apply (the server rolled it back)', async () => {
    const dir = await project({ service: 'ms', database: 'shop', schemas: { sales: { tables: { Orders: { description: 'after a lost connection', columns: { id: 'id again' } } } } } });
    let dropped = 0;
    emulator.beforeBatch = (sql) => (sql.includes('BEGIN TRANSACTION') && dropped++ === 0 ? 'drop' : undefined);
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error)));
      assert.equal(dropped, 2);
      assert.ok(report.run.operations.every((operation) => operation.attempts === 2));
      assert.equal(property('MS_Description', 'sales', 'Orders'), 'after a lost connection');
    } finally {
      delete emulator.beforeBatch;
      await dir.remove();
    }
  });

  it('reports each operation of a failed batch: a denied one fails with the server error, the others apply', async () => {
    // The service login is no db_owner: the database's own extended property needs CONTROL on it.
    const dir = await project({ service: 'ms', database: 'shop', description: 'the shop', schemas: { sales: { description: 'sales, denied batch' } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      const report = await applyPlan(loaded, plan);
      const outcomes = report.run.operations.map((operation) => `${operation.outcome}${operation.error ? `: ${operation.error}` : ''}`).sort();
      assert.equal(outcomes.length, 2);
      assert.match(outcomes[0] ?? '', /^failed: User does not have permission to perform this action\./);
      assert.equal(outcomes[1], 'succeeded');
    } finally {
      await dir.remove();
    }
  });

  it('stops at an interrupt: nothing more starts, the rest is reported not run', async () => {
    const session = await MssqlSession.open({ name: 'ms', type: 'mssql', connection: emulator.connection, tags: { prune: true }, owners: { map: {} }, templates: {}, options: {} } as ServiceConfig);
    try {
      const stop = new AbortController();
      stop.abort();
      const results = await session.execute({ database: 'shop', signal: stop.signal, operations: [{ id: 'a', service: 'ms', database: 'shop', changeIds: ['a'], statements: ['SELECT 1'] }] });
      assert.deepEqual(results.map((result) => [result.outcome, result.error]), [['not-run', 'interrupted']]);
    } finally {
      await session.close();
    }
  });

  it('holds a session-owned apply lock: a second apply waits, then gives up', async () => {
    const config = { name: 'ms', type: 'mssql', connection: emulator.connection, tags: { prune: true }, owners: { map: {} }, templates: {}, options: {} } as ServiceConfig;
    const first = await MssqlSession.open(config);
    const second = await MssqlSession.open(config);
    try {
      await first.lock('shop', 1000);
      await assert.rejects(second.lock('shop', 300), /another metaform apply holds the lock on database shop/);
      await first.close();
      await second.lock('shop', 1000);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('names server, database and user when login fails, never the password', async () => {
    const dir = await project({ service: 'ms', database: 'shop', description: 'x' }, { connection: { ...emulator.connection, password: 'wrong-Secret-1' } });
    try {
      await assert.rejects(createPlan(await loadProject(dir.dir)), (error: Error) => {
        assert.match(error.message, /cannot connect to SQL Server at 127\.0\.0\.1:\d+, database shop as metaform_svc: Login failed for user 'metaform_svc'/);
        assert.doesNotMatch(error.message, /wrong-Secret-1/);
        return true;
      });
    } finally {
      await dir.remove();
    }
  });

  it('imports YAML that plans to no changes', async () => {
    const importing = await project({ service: 'ms', database: 'shop' });
    try {
      const files = await importService(await loadProject(importing.dir), 'ms');
      for (const file of files) await importing.write(file.path, file.content);
      await importing.write('metadata/ms.yaml', '');
      const content = files.map((file) => file.content).join('\n');
      assert.match(content, /Orders:/);
      assert.match(content, /tier \]'/);
      const { plan } = await createPlan(await loadProject(importing.dir));
      assert.deepEqual(plan.changes.map((change) => change.id), []);
    } finally {
      await importing.remove();
    }
  });

  it('rejects a description over 7,500 bytes at validation, before anything connects', async () => {
    const dir = await tempProject({ version: 1, services: { ms: { type: 'mssql', connection: { server: '127.0.0.1', port: 9 } } } }, { 'metadata/ms.yaml': { service: 'ms', database: 'shop', description: '🚀'.repeat(1876) } });
    try {
      await assert.rejects(loadProject(dir.dir), /ms\.yaml:\d+:\d+: the description of ms\.shop is 7504 bytes as UTF-16; SQL Server stores at most 7500/);
    } finally {
      await dir.remove();
    }
  });

  it('declares its capabilities and rejects tags without a prefix at validation', async () => {
    assert.deepEqual(mssqlConnector.capabilities.owner, ['database', 'schema', 'table']);
    const dir = await tempProject({ version: 1, services: { ms: { type: 'mssql', connection: emulator.connection } } }, { 'metadata/ms.yaml': { service: 'ms', database: 'shop', tags: { pii: 'x' } } });
    try {
      await assert.rejects(loadProject(dir.dir), /options\.tagPrefix/);
    } finally {
      await dir.remove();
    }
  });
});
