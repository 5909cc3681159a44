import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { schemaValidator } from '../src/core/schemas.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { metaform } from './support/cli.js';
import { tempProject, type TempProject } from './support/project.js';




// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
/** A description that, printed raw, clears the screen, retitles the terminal, rewrites its line and reorders text. */
const HOSTILE = 'Order id \u001b[2J\u001b]0;pwned\u0007 then\rDROP TABLE orders; \u202egnp.exe\u202c \u2066isolated\u2069, long enough for a word diff';

describe('plan and drift reports through the CLI', () => {
  let db: TestPostgres;
  let project: TempProject;
  const env = () => ({ SHOP_PORT: String(db.connection.port) });

  before(async () => {
    db = await startPglite();
    await db.query(`CREATE SCHEMA shop; CREATE TABLE shop.orders (id int, note text);
      COMMENT ON COLUMN shop.orders.id IS 'Order id, as the live catalog had it before the YAML took over';`);
    project = await tempProject(
      { version: 1, services: { shop: { type: 'postgres', connection: { host: db.connection.host, port: '${SHOP_PORT}', user: 'postgres', database: 'postgres' } } } },
      { 'metadata/shop.yaml': { service: 'shop', database: 'postgres', schemas: { shop: { tables: { orders: { description: 'x'.repeat(3_000), columns: { id: HOSTILE, note: 'Free text' } } } } } } },
    );
  });
  after(async () => {
    await project.remove();
    await db.close();
  });

  it('saves the same compact JSON it prints: one change and one operation per line', async () => {
    const planFile = join(project.dir, 'plan.json');
    const result = await metaform(project.dir, ['plan', '--out', planFile, '--format', 'json'], { env: env() });
    assert.equal(result.code, 0, result.stderr);
    const saved = await readFile(planFile, 'utf8');
    assert.equal(result.stdout, saved);
    const plan = JSON.parse(saved) as { changes: { id: string }[]; operations: { id: string }[] };
    const validate = schemaValidator('plan');
    assert.ok(validate(plan), JSON.stringify(validate.errors));
    const lines = saved.split('\n');
    assert.equal(plan.changes.length, 3);
    for (const change of plan.changes) assert.equal(lines.filter((line) => line.includes(`"id":${JSON.stringify(change.id)}`) && line.startsWith('    {')).length, 2, change.id);
    assert.ok(lines.length < 30, `${lines.length} lines`);
  });

  it('says where a plan file cannot be written', async () => {
    const result = await metaform(project.dir, ['plan', '--out', join(project.dir, 'no', 'such', 'dir', 'plan.json')], { env: env() });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /cannot write the plan to .*no\/such\/dir\/plan\.json/);
  });

  it('prints plan and drift with control characters escaped and long values shortened', async () => {
    const plan = await metaform(project.dir, ['plan'], { env: env() });
    assert.equal(plan.code, 0, plan.stderr);
    assert.doesNotMatch(plan.stdout, RAW_CONTROL);
    assert.match(plan.stdout, /\\u001b\[2J/);
    assert.match(plan.stdout, /\(3,000 characters\)/);
    assert.match(plan.stdout, /3 operations \(3 statements\)\./);
    const drift = await metaform(project.dir, ['drift'], { env: env() });
    assert.equal(drift.code, 2, drift.stderr);
    assert.doesNotMatch(drift.stdout, RAW_CONTROL);
    assert.match(drift.stdout, /\\u202egnp\.exe/);
    const markdown = await metaform(project.dir, ['drift', '--format', 'markdown'], { env: env() });
    assert.doesNotMatch(markdown.stdout, RAW_CONTROL);
  });
});
