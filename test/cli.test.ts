import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { schemaValidator } from '../src/core/schemas.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { metaform } from './support/cli.js';
import { tempProject, type TempProject } from './support/project.js';



/** Runs the real CLI in a child process, as a user (or CI) would, without a terminal. */

describe('metaform CLI', () => {
  let db: TestPostgres;
  let project: TempProject;

  before(async () => {
    db = await startPglite();
    await db.query(`CREATE SCHEMA shop; CREATE TABLE shop.items (id int, label text); CREATE ROLE shop_owner;`);
    project = await tempProject(
      {
        version: 1,
        services: {
          shop: {
            type: 'postgres',
            connection: { host: db.connection.host, port: '${SHOP_PORT}', user: 'postgres', database: 'postgres', password: '${SHOP_PASSWORD:-}' },
          },
        },
      },
      {
        'metadata/shop.yaml': {
          service: 'shop',
          database: 'postgres',
          schemas: { shop: { owners: ['shop_owner'], tables: { items: { description: 'Items for sale | with a pipe', columns: { id: 'Item id', label: 'Shown "as is"' } } } } },
        },
      },
    );
  });
  after(async () => {
    await project.remove();
    await db.close();
  });

  const env = () => ({ SHOP_PORT: String(db.connection.port) });

  it('exits 2 from plan --detailed-exitcode when there are changes, and prints statements', async () => {
    const result = await metaform(project.dir, ['plan', '--detailed-exitcode'], { env: env() });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stdout, /# shop\.postgres\.shop\.items \(table\)\n {2}\+ description: "Items for sale \| with a pipe"\n {6}COMMENT ON TABLE "shop"\."items" IS 'Items for sale \| with a pipe'/);
    assert.match(result.stdout, /Plan: 3 to add, 1 to change, 0 to remove\./);
  });

  it('writes JSON that the plan schema accepts, and Markdown for a pull request', async () => {
    const json = await metaform(project.dir, ['plan', '--format', 'json'], { env: env() });
    assert.equal(json.code, 0, json.stderr);
    const plan = JSON.parse(json.stdout) as { changes: { address: string }[] };
    const validate = schemaValidator('plan');
    assert.ok(validate(plan), JSON.stringify(validate.errors));
    assert.ok(plan.changes.some((change) => change.address === 'shop.postgres.shop.items.label'));
    const markdown = await metaform(project.dir, ['plan', '--format', 'markdown'], { env: env() });
    assert.match(markdown.stdout, /^### metaform plan/);
    assert.match(markdown.stdout, /Items for sale \\\| with a pipe/);
    assert.match(markdown.stdout, /```sql\nALTER SCHEMA "shop" OWNER TO "shop_owner";\nCOMMENT ON/);
  });

  it('refuses to apply without --auto-approve when not on a terminal', async () => {
    const result = await metaform(project.dir, ['apply'], { env: env() });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /standard input is not a terminal/);
  });

  it('refuses a saved plan that went stale, applies a fresh one, then reports no changes', async () => {
    const planFile = join(project.dir, 'plan.json');
    assert.equal((await metaform(project.dir, ['plan', '--out', planFile], { env: env() })).code, 0);
    await db.query(`COMMENT ON TABLE shop.items IS 'changed meanwhile'`);
    const stale = await metaform(project.dir, ['apply', planFile], { env: env() });
    assert.equal(stale.code, 1);
    assert.match(stale.stderr, /the plan is stale: 1 object changed since it was made/);
    assert.equal((await metaform(project.dir, ['plan', '--out', planFile], { env: env() })).code, 0);
    const applied = await metaform(project.dir, ['apply', planFile], { env: env() });
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Apply complete: 4 operations: 4 succeeded, 0 failed/);
    const again = await metaform(project.dir, ['plan', '--detailed-exitcode'], { env: env() });
    assert.equal(again.code, 0);
    assert.match(again.stdout, /No changes/);
    const status = await metaform(project.dir, ['status'], { env: env() });
    assert.match(status.stdout, /ok {2}operations: 4 succeeded, 0 failed/);
  });

  it('exits 2 from drift after an out-of-band edit', async () => {
    assert.equal((await metaform(project.dir, ['drift'], { env: env() })).code, 0);
    await db.query(`COMMENT ON COLUMN shop.items.id IS NULL`);
    const drift = await metaform(project.dir, ['drift', '--format', 'markdown'], { env: env() });
    assert.equal(drift.code, 2);
    assert.match(drift.stdout, /### metaform drift report/);
    assert.match(drift.stdout, /`shop\.postgres\.shop\.items\.id` \| description \| _\(none\)_ \| Item id/);
    assert.equal((await metaform(project.dir, ['apply', '--auto-approve'], { env: env() })).code, 0);
  });

  it('names the unset variable, and the service and host on a failed connection, never the password', async () => {
    const unset = await metaform(project.dir, ['plan']);
    assert.equal(unset.code, 1);
    assert.match(unset.stderr, /metaform\.yaml:\d+:\d+: service shop: the connection reads unset environment variable SHOP_PORT/);
    const refused = await metaform(project.dir, ['plan'], { env: { SHOP_PORT: '1', SHOP_PASSWORD: 'hunter2-secret' } });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /service shop: cannot connect to PostgreSQL at 127\.0\.0\.1:1 as postgres/);
    assert.doesNotMatch(refused.stderr + refused.stdout, /hunter2-secret/);
  });

  it('reports invalid YAML as file:line:col with the fix, before connecting', async () => {
    await writeFile(
      join(project.dir, 'metadata/bad.yaml'),
      'service: shop\ndatabase: postgres\nschemas:\n  shop:\n    tables:\n      items:\n        descripton: typo\n',
    );
    try {
      const result = await metaform(project.dir, ['validate']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /metadata\/bad\.yaml:7:9: unknown key "descripton" in schemas\.shop\.tables\.items\n {2}hint: did you mean "description"\? allowed keys: description, owners, tags, columns/);
    } finally {
      await writeFile(join(project.dir, 'metadata/bad.yaml'), '');
    }
    const ok = await metaform(project.dir, ['validate']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Valid: 1 service, 2 metadata files, 5 objects\./);
  });

  it('reports a property defined in two files with both places', async () => {
    await writeFile(join(project.dir, 'metadata/twice.yaml'), 'service: shop\ndatabase: postgres\nschemas:\n  shop:\n    tables:\n      items: Another description\n');
    try {
      const result = await metaform(project.dir, ['validate']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /metadata\/twice\.yaml:6:14: description of shop\.postgres\.shop\.items is defined twice: at metadata\/shop\.yaml:\d+:\d+ and here/);
    } finally {
      await writeFile(join(project.dir, 'metadata/twice.yaml'), '');
    }
  });

  it('imports to stdout and scaffolds a project with init', async () => {
    const imported = await metaform(project.dir, ['import', '--service', 'shop', '--stdout'], { env: env() });
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /description: Items for sale \| with a pipe/);
    const fresh = await tempProject({ version: 1, services: { x: { type: 'postgres' } } });
    try {
      const clash = await metaform(fresh.dir, ['init']);
      assert.equal(clash.code, 1);
      assert.match(clash.stderr, /metaform\.yaml already exists/);
      const init = await metaform(fresh.dir, ['init', '--force']);
      assert.equal(init.code, 0, init.stderr);
      assert.match(await readFile(join(fresh.dir, '.gitignore'), 'utf8'), /^\.metaform\/$/m);
      assert.match(await readFile(join(fresh.dir, '.github/workflows/metaform.yml'), 'utf8'), /uses: metaform\/metaform@v1\n {8}with:\n {10}command: plan/);
      const validate = await metaform(fresh.dir, ['validate']);
      assert.equal(validate.code, 0, validate.stderr);
    } finally {
      await fresh.remove();
    }
  });

  it('has --help on every command', async () => {
    for (const command of ['init', 'validate', 'plan', 'apply', 'drift', 'import', 'pull', 'push', 'status', 'demo']) {
      const help = await metaform(project.dir, [command, '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`Usage: metaform ${command}`));
    }
  });
});
