/** Saved plans through the real CLI: -s on apply, skipped-only plans, drift with missing objects, old formats. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { readRuns } from '../src/core/journal.js';
import { applyPlan, createPlan, InterruptedBeforeRun } from '../src/core/pipeline.js';
import { loadProject } from '../src/core/project.js';
import { metaform } from './support/cli.js';
import { tempProject, type TempProject } from './support/project.js';



describe('saved plans and reports through the CLI', () => {
  let db: TestPostgres;
  let project: TempProject;
  const comment = async (table: string) =>
    (await db.query(`SELECT obj_description(('shop.' || $1)::regclass, 'pg_class') AS d`, [table])).rows[0]?.d as string | null;

  before(async () => {
    db = await startPglite();
    await db.query(`CREATE SCHEMA shop; CREATE TABLE shop.a (id int); CREATE TABLE shop.b (id int);`);
    // Two services over one database: a plan for both, applied one service at a time.
    const service = { type: 'postgres', connection: db.connection };
    project = await tempProject(
      { version: 1, services: { first: service, second: service } },
      {
        'metadata/first.yaml': { service: 'first', database: 'postgres', schemas: { shop: { tables: { a: 'Table a' } } } },
        'metadata/second.yaml': { service: 'second', database: 'postgres', schemas: { shop: { tables: { b: 'Table b' } } } },
      },
    );
  });
  after(async () => {
    await project.remove();
    await db.close();
  });

  it('applies only the services named with -s from a saved plan, and refuses one the plan lacks', async () => {
    const planFile = join(project.dir, 'plan.json');
    assert.equal((await metaform(project.dir, ['plan', '--out', planFile])).code, 0);
    const unknown = await metaform(project.dir, ['apply', planFile, '-s', 'third']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /plan\.json has no changes for service third\n {2}hint: services in the plan: first, second/);
    const applied = await metaform(project.dir, ['apply', planFile, '-s', 'first']);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Apply complete: 1 operation: 1 succeeded, 0 failed/);
    assert.equal(await comment('a'), 'Table a');
    assert.equal(await comment('b'), null, 'the other service was left alone');
    const rest = await metaform(project.dir, ['apply', planFile, '-s', 'second']);
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal(await comment('b'), 'Table b');
  });

  it('refuses a plan of another format version with the fix', async () => {
    const planFile = join(project.dir, 'old.json');
    await writeFile(planFile, JSON.stringify({ formatVersion: 1, createdAt: '2026-01-01T00:00:00Z', changes: [], operations: [], summary: {} }));
    const result = await metaform(project.dir, ['apply', planFile]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /plan format 1 is not the one this metaform applies \(3\)\n {2}hint: make the plan again/);
  });

  it('says so when every change of a plan is skipped, and exits 0', async () => {
    await project.write('metadata/first.yaml', 'service: first\ndatabase: postgres\nschemas:\n  shop:\n    tables:\n      a: "nul \\0 inside"\n');
    try {
      const planFile = join(project.dir, 'skipped.json');
      const plan = await metaform(project.dir, ['plan', '-s', 'first', '--out', planFile]);
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(plan.stdout, /skipped: PostgreSQL text cannot hold a NUL character/);
      const applied = await metaform(project.dir, ['apply', planFile]);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stdout, /Nothing to apply: the plan's 1 change is skipped/);
      assert.match(JSON.parse(await readFile(planFile, 'utf8')).changes[0].skipped, /NUL/);
    } finally {
      await project.write('metadata/first.yaml', { service: 'first', database: 'postgres', schemas: { shop: { tables: { a: 'Table a' } } } });
    }
  });

  it('stopped before any operation starts, an apply runs nothing and journals nothing', async () => {
    await project.write('metadata/first.yaml', { service: 'first', database: 'postgres', schemas: { shop: { tables: { a: 'Table a, again' } } } });
    try {
      const loaded = await loadProject(project.dir);
      const { plan } = await createPlan(loaded);
      assert.equal(plan.operations.length, 1);
      await assert.rejects(applyPlan(loaded, plan, { signal: AbortSignal.abort() }), InterruptedBeforeRun);
      assert.equal(await comment('a'), 'Table a');
      assert.equal((await readRuns(join(project.dir, '.metaform'), 100)).runs.some((run) => run.planCreatedAt === plan.createdAt), false);
    } finally {
      await project.write('metadata/first.yaml', { service: 'first', database: 'postgres', schemas: { shop: { tables: { a: 'Table a' } } } });
    }
  });

  it('drift names objects missing at the source instead of saying there is no drift', async () => {
    await project.write('metadata/ghost.yaml', { service: 'second', database: 'postgres', schemas: { shop: { tables: { ghost: 'Not there' } } } });
    try {
      for (const format of ['text', 'markdown']) {
        const drift = await metaform(project.dir, ['drift', '--format', format]);
        assert.equal(drift.code, 2, drift.stderr);
        assert.doesNotMatch(drift.stdout, /No drift/);
        assert.match(drift.stdout, /table second\.postgres\.shop\.ghost does not exist at the source/);
        assert.match(drift.stdout, /no property differs, but 1 object named in the YAML does not exist at the source/);
      }
    } finally {
      await project.write('metadata/ghost.yaml', '');
    }
  });
});
