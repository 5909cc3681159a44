/**
 * The connector contract, once, over every engine (as Kysely runs every suite over every
 * dialect). Each engine is one entry of ENGINES; adding a connector is adding its entry:
 *
 *   {
 *     name: 'bigquery (emulator)',            // shown in the test names
 *     type: 'bigquery',                        // the service `type` in metaform.yaml
 *     database: 'contract_db',                 // metaform's database name for the fixture
 *     start: async () => {                     // the engine with the fixture, or why it is skipped
 *       const emulator = await startBigqueryEmulator();
 *       emulator.run('CREATE SCHEMA contract_db.contract_s');
 *       emulator.run('CREATE TABLE contract_db.contract_s.items (id INT64, note STRING)');
 *       return emulator;                       // { connection, close() } (run() is the entry's own business)
 *     },
 *     keeps: (text) => true,                   // optional: the descriptions the engine stores byte-identical
 *   }
 *
 * The fixture is always schema `contract_s` (for two-level engines: the engine's database) with
 * table `items` and columns `id`, `note`, spelled as the YAML writes them (engines that fold
 * names fold these).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connectorFor } from '../../src/connectors/registry.js';
import { findLive } from '../../src/core/model.js';
import { applyPlan, createPlan } from '../../src/core/pipeline.js';
import { loadProject } from '../../src/core/project.js';
import { StalePlanError } from '../../src/core/verify.js';
import { chdbUnavailable, startChdbServer } from '../support/chdb-server.js';
import { startMariadb } from '../support/mariadb.js';
import { startPglite, startServerPostgres } from '../support/postgres.js';
import { tempProject } from '../support/project.js';
import { HOSTILE_DESCRIPTIONS } from '../support/strings.js';
import { EmulatedAccount } from '../emulators/databricks/catalog.js';
import { startDatabricksEmulator } from '../emulators/databricks/server.js';
import { startSnowflakeEmulator } from '../emulators/snowflake/server.js';
import { startMssqlEmulator } from '../emulators/mssql/server.js';
import { startOracleEmulator } from '../emulators/oracle/server.js';

export interface ContractEngine {
  /** What a user puts under `connection:` in metaform.yaml. */
  connection: object;
  close(): Promise<void>;
}

export interface ContractEntry {
  name: string;
  type: string;
  database: string;
  start(): Promise<(ContractEngine & { database?: string; schema?: string }) | { skip: string }>;
  keeps?: (text: string) => boolean;
}

const FIXTURE_SCHEMA = 'contract_s';
const FOUR_BYTE = /[\u{10000}-\u{10FFFF}]/u;

const ENGINES: ContractEntry[] = [
  {
    name: 'postgres (PGlite)',
    type: 'postgres',
    database: 'postgres',
    start: async () => {
      const db = await startPglite();
      await db.query(`CREATE SCHEMA ${FIXTURE_SCHEMA}; CREATE TABLE ${FIXTURE_SCHEMA}.items (id int, note text)`);
      return db;
    },
  },
  {
    name: 'postgres (server)',
    type: 'postgres',
    database: '',
    start: async () => {
      const db = await startServerPostgres();
      if ('skip' in db) return db;
      await db.query(`CREATE SCHEMA ${FIXTURE_SCHEMA}; CREATE TABLE ${FIXTURE_SCHEMA}.items (id int, note text)`);
      return { ...db, database: db.connection.database };
    },
  },
  {
    name: 'mariadb (server)',
    type: 'mysql',
    database: 'default',
    start: async () => {
      const db = await startMariadb();
      if ('skip' in db) return db;
      await db.query(`CREATE TABLE \`${db.database}\`.items (id int, note text)`);
      // The scratch database is the fixture schema on a two-level engine.
      return { connection: db.connection, close: () => db.close(), schema: db.database };
    },
    // MariaDB keeps comments in utf8mb3 (information_schema): 4-byte characters are refused at plan.
    keeps: (text) => !FOUR_BYTE.test(text),
  },
  {
    name: 'clickhouse (chDB)',
    type: 'clickhouse',
    database: 'default',
    start: async () => {
      const unavailable = chdbUnavailable();
      if (unavailable) return { skip: unavailable };
      const server = await startChdbServer();
      server.query(`CREATE DATABASE ${FIXTURE_SCHEMA}`);
      server.query(`CREATE TABLE ${FIXTURE_SCHEMA}.items (id Int32, note String) ENGINE = MergeTree ORDER BY id`);
      return { connection: { url: server.url }, close: () => server.close() };
    },
  },
  {
    name: 'snowflake (emulator)',
    type: 'snowflake',
    database: 'contract_db',
    start: async () => {
      const emulator = await startSnowflakeEmulator();
      emulator.run('CREATE DATABASE contract_db');
      emulator.run(`CREATE SCHEMA contract_db.${FIXTURE_SCHEMA}`);
      emulator.run(`CREATE TABLE contract_db.${FIXTURE_SCHEMA}.items (id NUMBER, note VARCHAR)`);
      return emulator;
    },
  },
  {
    name: 'databricks (emulator)',
    type: 'databricks',
    database: 'contract_db',
    start: async () => {
      const account = new EmulatedAccount();
      account.addPrincipal('admins');
      const catalog = account.addCatalog('contract_db', { owner: 'admins' });
      account.addTable(account.addSchema(catalog, FIXTURE_SCHEMA), 'items', ['id', 'note']);
      return startDatabricksEmulator({ account });
    },
  },
  {
    name: 'mssql (emulator)',
    type: 'mssql',
    database: 'contract_db',
    start: async () => {
      const emulator = await startMssqlEmulator({ database: 'contract_db' });
      emulator.run(`CREATE SCHEMA ${FIXTURE_SCHEMA}; CREATE TABLE ${FIXTURE_SCHEMA}.items (id int, note nvarchar(100)); GRANT CONTROL ON SCHEMA::${FIXTURE_SCHEMA} TO metaform_svc;`);
      return emulator;
    },
  },
  {
    name: 'oracle (emulator)',
    type: 'oracle',
    database: 'default',
    start: async () => {
      // The schema is its owning user, logged in as itself (no system privileges).
      const emulator = await startOracleEmulator({ users: { CONTRACT_S: 'secret' } });
      emulator.run('CREATE TABLE CONTRACT_S.ITEMS (ID NUMBER, NOTE VARCHAR2(100))');
      return emulator;
    },
  },
];

for (const entry of ENGINES) {
  describe(`connector contract: ${entry.name}`, () => {
    let engine: (ContractEngine & { database?: string; schema?: string }) | undefined;
    let skip: string | undefined;
    before(async () => {
      const started = await entry.start();
      if ('skip' in started) skip = started.skip;
      else engine = started;
    });
    after(() => engine?.close());

    const database = () => engine?.database ?? entry.database;
    const schema = () => engine?.schema ?? FIXTURE_SCHEMA;
    const project = (metadata: object) =>
      tempProject({ version: 1, services: { svc: { type: entry.type, connection: engine?.connection ?? {} } } }, { 'metadata/svc.yaml': { service: 'svc', database: database(), ...metadata } });
    const described = (descriptions: Record<string, string>, column?: string) => ({
      schemas: { [schema()]: { tables: { items: { description: descriptions['table'], ...(column === undefined ? {} : { columns: { note: column } }) } } } },
    });

    it('reads database > schema > table > column, descriptions as text or null', async (t) => {
      if (!engine) return t.skip(skip);
      const dir = await project(described({ table: 'read shape' }));
      try {
        const loaded = await loadProject(dir.dir);
        const connector = connectorFor(entry.type);
        const service = loaded.config.services.get('svc')?.config;
        assert.ok(connector && service);
        const session = await connector.connect(service);
        try {
          const canonical = (name: string, level: 'database' | 'schema' | 'table' | 'column') => connector.canonicalName?.(name, level) ?? name;
          const path = [canonical(database(), 'database'), canonical(schema(), 'schema'), canonical('items', 'table'), canonical('note', 'column')];
          const snapshot = await session.read({ databases: [path[0] as string], schemas: new Map([[path[0] as string, [path[1] as string]]]) });
          const column = findLive(snapshot, path);
          assert.equal(column?.level, 'column', JSON.stringify(path));
          assert.ok(column.description === null || typeof column.description === 'string');
          assert.equal(findLive(snapshot, path.slice(0, 3))?.level, 'table');
          assert.ok(snapshot.queries > 0);
        } finally {
          await session.close();
        }
      } finally {
        await dir.remove();
      }
    });

    it('plans, applies and plans no changes; hostile descriptions come back byte-identical', async (t) => {
      if (!engine) return t.skip(skip);
      const texts = HOSTILE_DESCRIPTIONS.filter((text) => text.length < 1000 && (entry.keeps?.(text) ?? true));
      const dir = await project(described({ table: texts.join('|') }, texts[texts.length - 1]));
      try {
        const loaded = await loadProject(dir.dir);
        const { plan } = await createPlan(loaded);
        assert.equal(plan.summary.skipped, 0, JSON.stringify(plan.changes.filter((change) => change.skipped)));
        assert.ok(plan.changes.length >= 2);
        const report = await applyPlan(loaded, JSON.parse(JSON.stringify(plan)));
        assert.deepEqual(report.run.operations.filter((operation) => operation.outcome !== 'succeeded').map((operation) => operation.error), []);
        const again = await createPlan(loaded);
        assert.deepEqual(again.plan.changes.map((change) => `${change.id}: ${JSON.stringify(change.before)} -> ${JSON.stringify(change.after)}`), []);
      } finally {
        await dir.remove();
      }
    });

    it('refuses a stale plan', async (t) => {
      if (!engine) return t.skip(skip);
      const first = await project(described({ table: 'planned first' }));
      const second = await project(described({ table: 'applied meanwhile' }));
      try {
        const loaded = await loadProject(first.dir);
        const { plan } = await createPlan(loaded);
        const other = await loadProject(second.dir);
        assert.equal((await applyPlan(other, (await createPlan(other)).plan)).failed, 0);
        await assert.rejects(applyPlan(loaded, plan), StalePlanError);
      } finally {
        await first.remove();
        await second.remove();
      }
    });

    it('reads nothing below a database that names no schema, and plans no error', async (t) => {
      if (!engine) return t.skip(skip);
      const dir = await project({});
      try {
        const loaded = await loadProject(dir.dir);
        const { plan } = await createPlan(loaded);
        assert.deepEqual(plan.changes.filter((change) => change.level !== 'database'), []);
      } finally {
        await dir.remove();
      }
    });
  });
}
