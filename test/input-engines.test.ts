import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { MetaformError } from '../src/core/errors.js';
import { importService } from '../src/core/import.js';
import { createPlan } from '../src/core/pipeline.js';
import { loadProject } from '../src/core/project.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject } from './support/project.js';

const SECRET = 'hunter2-secret';

describe('import on PostgreSQL (PGlite)', () => {
  let db: TestPostgres;
  const config = (metadata?: string[]) => ({
    version: 1,
    ...(metadata ? { metadata } : {}),
    services: { w: { type: 'postgres', connection: db.connection } },
  });

  before(async () => {
    db = await startPglite();
    await db.query(`
      CREATE SCHEMA "__proto__";
      CREATE TABLE "__proto__"."__proto__" ("__proto__" int, constructor int);
      COMMENT ON SCHEMA "__proto__" IS 'schema named __proto__';
      COMMENT ON TABLE "__proto__"."__proto__" IS 'table named __proto__';
      COMMENT ON COLUMN "__proto__"."__proto__"."__proto__" IS 'column named __proto__';
      COMMENT ON COLUMN "__proto__"."__proto__".constructor IS 'column named constructor';
      ALTER TABLE "__proto__"."__proto__" ADD COLUMN "010" int, ADD COLUMN "true" int;
      COMMENT ON COLUMN "__proto__"."__proto__"."010" IS 'column named 010';
      COMMENT ON COLUMN "__proto__"."__proto__"."true" IS 'column named true';
    `);
  });
  after(async () => {
    await db.close();
  });

  it('keeps every object named __proto__, and the YAML loads back to no changes', async () => {
    const project = await tempProject(config());
    try {
      const files = await importService(await loadProject(project.dir, { allowMissingMetadata: true }), 'w', { databases: ['postgres'] });
      const content = files[0]?.content ?? '';
      const written = parse(content) as { schemas: Record<string, { description: string; tables: Record<string, { description: string; columns: Record<string, string> }> }> };
      const schema = Object.getOwnPropertyDescriptor(written.schemas, '__proto__')?.value as (typeof written.schemas)[string] | undefined;
      assert.equal(schema?.description, 'schema named __proto__', content);
      const table = Object.getOwnPropertyDescriptor(schema.tables, '__proto__')?.value as (typeof schema.tables)[string] | undefined;
      assert.equal(table?.description, 'table named __proto__', content);
      assert.equal(Object.getOwnPropertyDescriptor(table.columns, '__proto__')?.value, 'column named __proto__', content);
      assert.equal(Object.getOwnPropertyDescriptor(table.columns, 'constructor')?.value, 'column named constructor', content);
      // Names YAML would read as a number or a boolean are written quoted, so they load back.
      assert.match(content, /^ {10}"010": column named 010$/m);
      assert.match(content, /^ {10}"true": column named true$/m);

      for (const file of files) await project.write(file.path, file.content);
      const loaded = await loadProject(project.dir);
      const column = loaded.desired.get('w')?.get('postgres')?.children.get('__proto__')?.children.get('__proto__')?.children.get('__proto__');
      assert.equal(column?.description?.value, 'column named __proto__');
      const { plan } = await createPlan(loaded);
      assert.deepEqual(plan.changes.map((change) => change.id), []);
    } finally {
      await project.remove();
    }
  });

  it('points the editor at the schema in the project\'s node_modules, relative to the file, as init does', async () => {
    for (const [metadata, prefix] of [[undefined, '../../'], [['config/metadata'], '../../../']] as const) {
      const project = await tempProject(config(metadata ? [...metadata] : undefined));
      try {
        const [file] = await importService(await loadProject(project.dir, { allowMissingMetadata: true }), 'w', { databases: ['postgres'] });
        assert.equal(file?.path, `${metadata?.[0] ?? 'metadata'}/w/postgres.yaml`);
        assert.equal(file.content.split('\n')[0], `# yaml-language-server: $schema=${prefix}node_modules/metaform/schemas/metadata.schema.json`);
      } finally {
        await project.remove();
      }
    }
  });
});

/** Plans against a port nothing listens on; returns the error. */
async function failedPlan(service: object): Promise<MetaformError> {
  const dir = await tempProject({ version: 1, services: { svc: service } }, { 'metadata/svc.yaml': { service: 'svc', database: 'db', schemas: { s: { tables: { t: 'x' } } } } });
  try {
    const project = await loadProject(dir.dir);
    const error = await createPlan(project).then(
      () => assert.fail('the plan should not connect'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof MetaformError, String(error));
    return error;
  } finally {
    await dir.remove();
  }
}

describe('connection failures name the host the client used, and where the service is configured', () => {
  it('PostgreSQL: the host of connectionString (which pg prefers to host), with metaform.yaml:line:col', async () => {
    const error = await failedPlan({ type: 'postgres', connection: { host: 'not-this-host.invalid', connectionString: `postgresql://metaform:${SECRET}@127.0.0.1:1/db`, connectionTimeoutMillis: 2000 } });
    assert.match(String(error), /^metaform\.yaml:3:3: service svc: cannot connect to PostgreSQL at 127\.0\.0\.1:1 as metaform, database db: .*ECONNREFUSED/);
    assert.doesNotMatch(String(error), new RegExp(`${SECRET}|not-this-host`));
  });

  it('PostgreSQL: a plain connection block still carries metaform.yaml:line:col', async () => {
    const error = await failedPlan({ type: 'postgres', connection: { host: '127.0.0.1', port: 1, user: 'metaform', password: SECRET, database: 'db' } });
    assert.match(String(error), /^metaform\.yaml:3:3: service svc: cannot connect to PostgreSQL at 127\.0\.0\.1:1 as metaform/);
  });

  it('MySQL: the host, port and user of uri', async () => {
    const error = await failedPlan({ type: 'mysql', connection: { uri: `mysql://metaform:${SECRET}@127.0.0.1:1/db` } });
    assert.match(String(error), /^metaform\.yaml:3:3: service svc: cannot connect to MySQL\/MariaDB at 127\.0\.0\.1:1 as metaform: .*ECONNREFUSED/);
    assert.doesNotMatch(String(error), new RegExp(SECRET));
  });

  it('ClickHouse: host, which the client prefers to url, and the user of the URL', async () => {
    const error = await failedPlan({
      type: 'clickhouse',
      connection: { host: `http://urluser:${SECRET}@127.0.0.1:1`, url: 'http://not-this-host.invalid:8123', username: 'ignored', request_timeout: 2000 },
    });
    assert.match(String(error), /^metaform\.yaml:3:3: service svc: cannot connect to ClickHouse at http:\/\/127\.0\.0\.1:1 as urluser: .*ECONNREFUSED/);
    assert.doesNotMatch(String(error), new RegExp(`${SECRET}|not-this-host`));
  });
});
