import assert from 'node:assert/strict';
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
});
