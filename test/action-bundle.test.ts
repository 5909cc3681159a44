import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { BUNDLE, buildBundle } from '../action/build.js';
import { readMarker } from '../src/action/marker.js';
import { runAction } from './support/action.js';
import { GitHubEmulator } from './emulators/github/server.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('action: the committed bundle', () => {
  it('is up to date with the sources (else run `npm run build:action` and commit action/bundle/index.js)', async () => {
    const committed = await readFile(BUNDLE, 'utf8');
    const fresh = await buildBundle();
    assert.ok(committed === fresh, 'action/bundle/index.js is out of date: run `npm run build:action` and commit it');
  });

  it('action.yml runs it on node24 and declares every input the entry point reads', async () => {
    const action = parse(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { runs: { using: string; main: string }; inputs: Record<string, unknown>; outputs: Record<string, unknown> };
    assert.equal(action.runs.using, 'node24');
    assert.equal(join(ROOT, action.runs.main), BUNDLE);
    const sources = (await Promise.all(['context.ts', 'plan.ts', 'apply.ts', 'drift.ts', 'pull.ts', 'main.ts'].map((file) => readFile(join(ROOT, 'src/action', file), 'utf8')))).join('\n');
    for (const [, input] of sources.matchAll(/getInput\('([^']+)'/g)) assert.ok(input && input in action.inputs, `input ${input} is not in action.yml`);
    for (const [, output] of sources.matchAll(/setOutput\('([^']+)'/g)) assert.ok(output && output in action.outputs, `output ${output} is not in action.yml`);
  });

  describe('run from a checkout of the action with no node_modules', () => {
    let db: TestPostgres;
    let project: TempProject;
    let github: GitHubEmulator;
    let checkout: string;

    before(async () => {
      // What the runner has: the repository at the ref, nothing installed.
      checkout = await mkdtemp(join(tmpdir(), 'metaform-action-checkout-'));
      await mkdir(join(checkout, 'action/bundle'), { recursive: true });
      await cp(BUNDLE, join(checkout, 'action/bundle/index.js'));
      await cp(join(ROOT, 'package.json'), join(checkout, 'package.json'));
      await cp(join(ROOT, 'schemas'), join(checkout, 'schemas'), { recursive: true });
      for (let dir = checkout; dir !== dirname(dir); dir = dirname(dir))
        await assert.rejects(readFile(join(dir, 'node_modules', 'pg', 'package.json')), { code: 'ENOENT' }, `${dir} has node_modules`);
      db = await startPglite();
      await db.query(`CREATE SCHEMA shop; CREATE TABLE shop.items (id int);`);
      github = await new GitHubEmulator('acme/warehouse').start();
      github.grant('ghs_write', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
      project = await tempProject(
        { version: 1, services: { shop: { type: 'postgres', connection: { host: db.connection.host, port: db.connection.port, user: 'postgres', database: 'postgres' } } } },
        { 'metadata/shop.yaml': { service: 'shop', database: 'postgres', schemas: { shop: { tables: { items: { description: 'Items' } } } } } },
      );
    });
    after(async () => {
      await github.stop();
      await project.remove();
      await db.close();
      await rm(checkout, { recursive: true, force: true });
    });

    it('plans through the real pg driver, validates the YAML against the schemas and comments', async () => {
      const pr = github.addPullRequest({});
      const run = await runAction({
        inputs: { command: 'plan', 'github-token': 'ghs_write' },
        event: { name: 'pull_request', payload: { number: pr.number, pull_request: { number: pr.number } } },
        repository: 'acme/warehouse',
        sha: 'd'.repeat(40),
        apiUrl: github.url,
        workspace: project.dir,
        bundle: join(checkout, 'action/bundle/index.js'),
      });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(run.outputs['add-count'], '1');
      assert.ok(readMarker('plan', github.commentsOn(pr.number)[0]?.body ?? '')?.hash);

      await project.write('metadata/shop.yaml', { service: 'shop', database: 'postgres', schemas: { shop: { tables: { items: { descripton: 'typo' } } } } });
      const invalid = await runAction({
        inputs: { command: 'plan', 'github-token': 'ghs_write' },
        event: { name: 'pull_request', payload: { number: pr.number, pull_request: { number: pr.number } } },
        repository: 'acme/warehouse',
        sha: 'd'.repeat(40),
        apiUrl: github.url,
        workspace: project.dir,
        bundle: join(checkout, 'action/bundle/index.js'),
      });
      assert.equal(invalid.code, 1);
      assert.match(invalid.stdout, /::error title=metaform,file=metadata\/shop\.yaml,line=\d+,col=\d+::.*descripton/);
    });
  });
});
