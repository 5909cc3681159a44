import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { metaform } from './support/cli.js';
import { startMariadb, type TestMariadb } from './support/mariadb.js';
import { tempProject } from './support/project.js';

/** What a new user hit on MariaDB (issues 20 and 22), each through the real CLI. */
describe('a new user on MariaDB, through the CLI', () => {
  let db: TestMariadb | undefined;
  let skip: string | undefined;
  before(async () => {
    const started = await startMariadb();
    if ('skip' in started) skip = started.skip;
    else db = started;
  });
  after(async () => db?.close());
  const config = () => ({ version: 1, services: { shop: { type: 'mysql', connection: db!.connection } } });

  it('skips a table or schema comment with NUL, with the reason, and applies the column comment that keeps it', async (t) => {
    if (skip || !db) return t.skip(skip);
    await db.query(`CREATE TABLE \`${db.database}\`.nul_t (a int) ENGINE=MEMORY`);
    const project = await tempProject(config(), {
      'metadata/shop.yaml': {
        service: 'shop',
        database: 'default',
        schemas: { [db.database]: { description: 's\0t', tables: { nul_t: { description: 'a\0b', columns: { a: 'c\0d' } } } } },
      },
    });
    try {
      const plan = await metaform(project.dir, ['plan']);
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(plan.stdout, /skipped: MySQL\/MariaDB cut a table comment at a NUL character/);
      assert.match(plan.stdout, /skipped: MySQL\/MariaDB cut a schema comment at a NUL character/);
      const apply = await metaform(project.dir, ['apply', '--auto-approve']);
      assert.equal(apply.code, 0, apply.stderr);
      const [[table, column]] = (await db.query(
        `SELECT HEX(t.TABLE_COMMENT), HEX(c.COLUMN_COMMENT) FROM information_schema.TABLES t JOIN information_schema.COLUMNS c USING (TABLE_SCHEMA, TABLE_NAME) WHERE t.TABLE_SCHEMA = ? AND t.TABLE_NAME = 'nul_t'`,
        [db.database],
      )) as [[string, string]];
      assert.equal(table, '', 'the table comment is left alone, not corrupted');
      assert.equal(column, Buffer.from('c\0d').toString('hex').toUpperCase(), 'a column comment round-trips NUL');
      const again = await metaform(project.dir, ['plan', '--detailed-exitcode']);
      assert.doesNotMatch(again.stdout, /nul_t\.a|~ description/, 'the column comment converged');
    } finally {
      await project.remove();
    }
  });

  it('a schema name in another case is missing on its own; the real schema keeps its changes (lower_case_table_names=0)', async (t) => {
    if (skip || !db) return t.skip(skip);
    const [[folding]] = (await db.query('SELECT @@lower_case_table_names')) as [[number]];
    if (Number(folding) !== 0) return t.skip(`this server folds names (lower_case_table_names=${folding}); the case-sensitive rule is what is tested here`);
    await db.query(`CREATE TABLE \`${db.database}\`.city (id int) ENGINE=MEMORY COMMENT 'city'`);
    const project = await tempProject(config(), {
      'metadata/real.yaml': { service: 'shop', database: 'default', schemas: { [db.database]: { tables: { city: 'changed' } } } },
      'metadata/case.yaml': { service: 'shop', database: 'default', schemas: { [db.database.toUpperCase()]: { tables: { city: 'other' } } } },
    });
    try {
      const plan = await metaform(project.dir, ['plan']);
      assert.equal(plan.code, 1);
      assert.match(plan.stderr, new RegExp(`schema shop\\.default\\.${db.database.toUpperCase()} does not exist`));
      assert.doesNotMatch(plan.stderr, new RegExp(`schema shop\\.default\\.${db.database} does not exist`), 'the real schema is found');
      const allowed = await metaform(project.dir, ['plan', '--allow-missing']);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.match(allowed.stdout, /~ description: "city" -> "changed"/);
    } finally {
      await project.remove();
    }
  });

  it('import with databases: [name] imports that MySQL database and says where it wrote it; nothing found is an error', async (t) => {
    if (skip || !db) return t.skip(skip);
    await db.query(`CREATE TABLE \`${db.database}\`.country (code char(3) COMMENT 'ISO code') ENGINE=MEMORY COMMENT 'countries'`);
    const scoped = (databases: string[]) => ({ version: 1, services: { shop: { type: 'mysql', databases, connection: db!.connection } } });
    const project = await tempProject(scoped([db.database]));
    const nowhere = await tempProject(scoped([`${db.database}_nowhere`]));
    try {
      const result = await metaform(project.dir, ['import', '-s', 'shop']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /Wrote metadata\/shop\/default\.yaml/);
      assert.doesNotMatch(result.stderr, /holds no \*\.yaml file/, 'no warning about the folder import is filling');
      const written = await readFile(join(project.dir, 'metadata/shop/default.yaml'), 'utf8');
      assert.match(written, new RegExp(`\\n {2}${db.database}:\\n {4}tables:\\n[\\s\\S]*\\n {6}country:\\n {8}description: countries`));
      assert.doesNotMatch(written, /\n {2}mysql:/, 'only the database named');
      const plan = await metaform(project.dir, ['plan', '--detailed-exitcode']);
      assert.equal(plan.code, 0, `the import plans to no changes, within databases: ${plan.stderr}`);
      const none = await metaform(nowhere.dir, ['import', '-s', 'shop']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /has no database/);
    } finally {
      await project.remove();
      await nowhere.remove();
    }
  });
});
