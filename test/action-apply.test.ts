import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readMarker } from '../src/action/marker.js';
import { runAction, writeShopTables, type ActionInvocation } from './support/action.js';
import { GitHubEmulator } from './emulators/github/server.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

const BOT = 'github-actions[bot]';

/** Review on a pull request, merge, apply on the push: only the reviewed plan is applied. */
describe('action: apply on merge', () => {
  let db: TestPostgres;
  let project: TempProject;
  let github: GitHubEmulator;
  let commits = 0;

  before(async () => {
    db = await startPglite();
    await db.query(`CREATE SCHEMA shop; CREATE TABLE shop.t1 (id int); CREATE TABLE shop.t2 (id int); CREATE TABLE shop.t3 (id int); CREATE TABLE shop.t4 (id int); CREATE TABLE shop.t5 (id int);`);
    github = await new GitHubEmulator('acme/warehouse').start();
    github.grant('ghs_write', { login: BOT, kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
    project = await tempProject({ version: 1, services: { shop: { type: 'postgres', connection: { host: db.connection.host, port: db.connection.port, user: 'postgres', database: 'postgres' } } } });
  });
  after(async () => {
    await github.stop();
    await project.remove();
    await db.close();
  });

  const tables = (descriptions: Record<string, string>, owners: Record<string, string[]> = {}) => writeShopTables(project, descriptions, owners);
  const base = (command: string, event: ActionInvocation['event'], sha: string, inputs: Record<string, string> = {}): ActionInvocation => ({
    inputs: { command, 'github-token': 'ghs_write', ...inputs },
    event,
    repository: 'acme/warehouse',
    sha,
    apiUrl: github.url,
    workspace: project.dir,
  });
  const plan = (pr: number) => runAction(base('plan', { name: 'pull_request', payload: { number: pr, pull_request: { number: pr } } }, 'f'.repeat(40)));
  const apply = (sha: string, inputs: Record<string, string> = {}) => runAction(base('apply', { name: 'push', payload: { ref: 'refs/heads/main', after: sha } }, sha, inputs));
  const newSha = () => (++commits).toString(16).padStart(40, '0');
  const description = async (table: string) => (await db.query(`SELECT obj_description('shop.${table}'::regclass, 'pg_class') AS d`)).rows[0]?.d as string | null;
  const outcome = (pr: number) => github.commentsOn(pr).find((comment) => readMarker('apply', comment.body))?.body ?? '';

  it('applies the reviewed plan on the push that merges its pull request, and comments the outcome', async () => {
    await tables({ t1: 'First' });
    const pr = github.addPullRequest({ title: 'Describe t1' });
    const reviewed = await plan(pr.number);
    assert.equal(reviewed.code, 0, reviewed.stdout);
    const sha = newSha();
    github.merge(pr.number, sha);
    const run = await apply(sha);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs['plan-hash'], reviewed.outputs['plan-hash']);
    assert.equal(run.outputs['failure-reason'], undefined);
    assert.equal(await description('t1'), 'First');
    assert.match(outcome(pr.number), /✅ metaform apply succeeded[\s\S]*1 succeeded, 0 failed, 0 not run, 0 skipped/);
  });

  it('refuses with plan-changed when the sources changed between review and merge, naming what differs; apply-anyway applies', async () => {
    await tables({ t1: 'First', t2: 'Second', t3: 'Third' });
    const pr = github.addPullRequest({ title: 'Describe t2, t3' });
    assert.equal((await plan(pr.number)).code, 0);
    // Someone edits the live catalog after the review: the fresh plan is not the reviewed one.
    await db.query(`COMMENT ON TABLE shop.t2 IS 'Edited by hand'`);
    const sha = newSha();
    github.merge(pr.number, sha);
    const refused = await apply(sha);
    assert.equal(refused.code, 1);
    assert.equal(refused.outputs['failure-reason'], 'plan-changed');
    assert.match(refused.stdout, /not as reviewed: `shop\.postgres\.shop\.t2` description \(update\)/);
    assert.match(refused.stdout, /1 reviewed change is no longer planned as reviewed/);
    assert.equal(await description('t3'), null, 'nothing was applied');
    assert.equal(await description('t2'), 'Edited by hand');
    assert.match(outcome(pr.number), /⏭️ metaform apply skipped[\s\S]*plan-changed/);
    assert.match(refused.summary, /The plan changed since #\d+ was reviewed/);

    const forced = await apply(sha, { 'apply-anyway': 'true' });
    assert.equal(forced.code, 0, forced.stdout);
    assert.equal(await description('t2'), 'Second');
    assert.equal(await description('t3'), 'Third');
    assert.match(outcome(pr.number), /✅ metaform apply succeeded/);
    assert.equal(github.commentsOn(pr.number).filter((comment) => readMarker('apply', comment.body)).length, 1, 'the outcome comment is updated in place');
  });

  it('refuses with plan-changed when the YAML changed after review (a later commit merged unreviewed)', async () => {
    await tables({ t1: 'First', t2: 'Second', t3: 'Third', t4: 'Fourth' });
    const pr = github.addPullRequest({});
    assert.equal((await plan(pr.number)).code, 0);
    await tables({ t1: 'First', t2: 'Second', t3: 'Third', t4: 'Fourth, edited after review' });
    const sha = newSha();
    github.merge(pr.number, sha);
    const refused = await apply(sha);
    assert.equal(refused.outputs['failure-reason'], 'plan-changed');
    assert.match(refused.stdout, /not as reviewed: `shop\.postgres\.shop\.t4` description \(add\)/);
    assert.equal(await description('t4'), null);
  });

  it('fails with no-pull-request for a direct push, unless apply-anyway', async () => {
    await tables({ t1: 'First', t2: 'Second', t3: 'Third', t4: 'Fourth' });
    const sha = newSha();
    const refused = await apply(sha);
    assert.equal(refused.code, 1);
    assert.equal(refused.outputs['failure-reason'], 'no-pull-request');
    assert.match(refused.stdout, /no merged pull request has commit [0-9a-f]{40}.*apply-anyway/);
    assert.equal(await description('t4'), null);
    const forced = await apply(sha, { 'apply-anyway': 'true' });
    assert.equal(forced.code, 0, forced.stdout);
    assert.equal(await description('t4'), 'Fourth');
  });

  it('fails with no-reviewed-plan when the merged pull request has no plan comment', async () => {
    await tables({ t1: 'First', t2: 'Second', t3: 'Third', t4: 'Fourth', t5: 'Fifth' });
    const pr = github.addPullRequest({});
    const sha = newSha();
    github.merge(pr.number, sha);
    const refused = await apply(sha);
    assert.equal(refused.outputs['failure-reason'], 'no-reviewed-plan');
    assert.equal(await description('t5'), null);
    assert.match(outcome(pr.number), /skipped[\s\S]*no metaform plan comment/);
  });

  it('comments a failed apply with the errors and fails with apply-failed', async () => {
    await tables({ t1: 'First', t2: 'Second', t3: 'Third', t4: 'Fourth', t5: 'Fifth' }, { t5: ['no_such_role'] });
    const pr = github.addPullRequest({});
    const reviewed = await plan(pr.number);
    assert.equal(reviewed.code, 0, reviewed.stdout);
    const sha = newSha();
    github.merge(pr.number, sha);
    const run = await apply(sha);
    assert.equal(run.code, 1, run.stdout);
    assert.equal(run.outputs['failure-reason'], 'apply-failed');
    assert.match(outcome(pr.number), /❌ metaform apply failed[\s\S]*\| failed \| `shop\.postgres\.shop\.t5` \|.*no_such_role/);
  });
});
