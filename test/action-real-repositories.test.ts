import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BUNDLE } from '../action/build.js';
import { readMarker } from '../src/action/marker.js';
import { runAction, writeShopTables, type ActionInvocation } from './support/action.js';
import { GitHubEmulator } from './emulators/github/server.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

const APP = 'metaform-app[bot]';

/** The bundle, run as the runner runs it, against what real repositories do (issue 19). */
describe('action in real repositories: App tokens, queued merges, forks, re-runs, labels', () => {
  let db: TestPostgres;
  let project: TempProject;
  let github: GitHubEmulator;
  let commits = 0;

  before(async () => {
    db = await startPglite();
    await db.query(`CREATE SCHEMA shop; ${Array.from({ length: 12 }, (_, i) => `CREATE TABLE shop.t${i + 1} (id int);`).join(' ')}`);
    github = await new GitHubEmulator('acme/warehouse').start();
    github.grant('ghs_app', { login: APP, kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
    github.grant('ghs_actions', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
    github.grant('ghs_fork', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'read', pull_requests: 'read' } });
    project = await tempProject({ version: 1, services: { shop: { type: 'postgres', connection: { host: db.connection.host, port: db.connection.port, user: 'postgres', database: 'postgres' } } } });
  });
  after(async () => {
    await github.stop();
    await project.remove();
    await db.close();
  });

  const tables = (descriptions: Record<string, string>, owners: Record<string, string[]> = {}) => writeShopTables(project, descriptions, owners);
  const invoke = (command: string, event: ActionInvocation['event'], sha: string, inputs: Record<string, string>): ActionInvocation => ({
    inputs: { command, ...inputs },
    event,
    repository: 'acme/warehouse',
    sha,
    apiUrl: github.url,
    workspace: project.dir,
    githubToken: 'ghs_actions',
    bundle: BUNDLE,
  });
  const prEvent = (pr: number, extra: object = {}) => {
    const head = github.issues.get(pr)?.pull_request;
    return { name: 'pull_request', payload: { number: pr, pull_request: { number: pr, head: { sha: head?.head_sha, repo: { full_name: head?.head_repository } } }, ...extra } };
  };
  const plan = (pr: number, inputs: Record<string, string> = {}, event: ActionInvocation["event"] = prEvent(pr)) => runAction(invoke('plan', event, 'f'.repeat(40), inputs));
  const apply = (sha: string, inputs: Record<string, string> = {}, pushed: string[] = [sha]) =>
    runAction(invoke('apply', { name: 'push', payload: { ref: 'refs/heads/main', after: sha, commits: pushed.map((id) => ({ id })) } }, sha, inputs));
  const newSha = () => (++commits).toString(16).padStart(40, 'a');
  const description = async (table: string) => (await db.query(`SELECT obj_description('shop.${table}'::regclass, 'pg_class') AS d`)).rows[0]?.d as string | null;
  const planComments = (pr: number) => github.commentsOn(pr).filter((comment) => readMarker('plan', comment.body));
  const outcome = (pr: number) => github.commentsOn(pr).find((comment) => readMarker('apply', comment.body))?.body ?? '';

  it('with an App token, finds its own comments as <app>[bot] (GET /user is 403): one plan comment, and apply finds the reviewed plan', async () => {
    await tables({ t1: 'One' });
    const pr = github.addPullRequest({});
    assert.equal((await plan(pr.number, { 'github-token': 'ghs_app' })).code, 0);
    const again = await plan(pr.number, { 'github-token': 'ghs_app' });
    assert.equal(again.code, 0, again.stdout);
    assert.match(again.stdout, /unchanged comment/, 'the log says nothing was written');
    assert.deepEqual(planComments(pr.number).map((comment) => comment.user.login), [APP]);
    const sha = newSha();
    github.merge(pr.number, sha);
    const run = await apply(sha, { 'github-token': 'ghs_app' });
    assert.equal(run.code, 0, run.stdout);
    assert.equal(await description('t1'), 'One');
    assert.match(outcome(pr.number), /✅ metaform apply succeeded/);
    assert.match(run.outputs['plan-path'] ?? '', /metaform-plan\.json$/);
  });

  it('fails with bad-credentials when GitHub refuses the token (401 on GET /user)', async () => {
    const run = await apply(newSha(), { 'github-token': 'ghs_revoked' });
    assert.equal(run.outputs['failure-reason'], 'bad-credentials');
  });

  it('re-running a successful apply succeeds and says the reviewed changes already hold', async () => {
    const pr = [...github.issues.values()].find((issue) => outcome(issue.number).includes('succeeded'));
    assert.ok(pr?.pull_request?.merge_commit_sha);
    const rerun = await apply(pr.pull_request.merge_commit_sha, { 'github-token': 'ghs_app' });
    assert.equal(rerun.code, 0, rerun.stdout);
    assert.match(outcome(pr.number), /✅ metaform apply succeeded[\s\S]*reviewed changes already hold/);
  });

  it('applies the reviewed plan of a queued merge whose apply was cancelled, with the next one, and comments on both', async () => {
    await tables({ t1: 'One', t2: 'Two' });
    const b = github.addPullRequest({ title: 'B' });
    assert.equal((await plan(b.number)).code, 0);
    const shaB = newSha();
    github.merge(b.number, shaB);
    // B's apply is cancelled by the concurrency group. C, branched before B merged, merges on top.
    await tables({ t1: 'One', t3: 'Three' });
    const c = github.addPullRequest({ title: 'C' });
    const planned = await plan(c.number);
    assert.equal(planned.code, 0);
    await tables({ t1: 'One', t2: 'Two', t3: 'Three' });
    const shaC = newSha();
    github.merge(c.number, shaC);
    const run = await apply(shaC);
    assert.equal(run.code, 0, run.stdout);
    assert.equal(await description('t2'), 'Two');
    assert.equal(await description('t3'), 'Three');
    assert.match(outcome(b.number), /✅ metaform apply succeeded/);
    assert.match(outcome(c.number), /✅ metaform apply succeeded/);
  });

  it('applies a push carrying several merged pull requests, and waits for GitHub to link the commit', async () => {
    await tables({ t1: 'One', t2: 'Two', t3: 'Three', t4: 'Four' });
    const d = github.addPullRequest({ title: 'D' });
    assert.equal((await plan(d.number)).code, 0);
    await tables({ t1: 'One', t2: 'Two', t3: 'Three', t4: 'Four', t5: 'Five' });
    const e = github.addPullRequest({ title: 'E' });
    assert.equal((await plan(e.number)).code, 0);
    const shaD = newSha();
    const shaE = newSha();
    github.merge(d.number, shaD);
    github.merge(e.number, shaE, 1);
    const run = await apply(shaE, {}, [shaD, shaE]);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /no pull request is linked to [0-9a-f]+ yet/);
    assert.equal(await description('t5'), 'Five');
    assert.match(outcome(d.number), /succeeded/);
    assert.match(outcome(e.number), /succeeded/);
  });

  it('after a partial failure, a re-run applies what is left of the reviewed plan', async () => {
    await tables({ t1: 'One', t2: 'Two', t3: 'Three', t4: 'Four', t5: 'Five', t6: 'Six' }, { t6: ['late_role'] });
    const pr = github.addPullRequest({});
    assert.equal((await plan(pr.number)).code, 0);
    const sha = newSha();
    github.merge(pr.number, sha);
    const failed = await apply(sha);
    assert.equal(failed.outputs['failure-reason'], 'apply-failed');
    await db.query('CREATE ROLE late_role');
    const rerun = await apply(sha);
    assert.equal(rerun.code, 0, rerun.stdout);
    assert.match(outcome(pr.number), /✅ metaform apply succeeded/);
  });

  it('refuses pull_request_target unless the workflow opts in', async () => {
    const pr = github.addPullRequest({});
    const refused = await plan(pr.number, {}, { ...prEvent(pr.number), name: 'pull_request_target' });
    assert.equal(refused.outputs['failure-reason'], 'invalid-input');
    assert.match(refused.stdout, /pull_request_target is refused/);
    const allowed = await plan(pr.number, { 'allow-pull-request-target': 'true' }, { ...prEvent(pr.number), name: 'pull_request_target' });
    assert.equal(allowed.code, 0, allowed.stdout);
  });

  it('on a fork pull request (read-only token), writes the summary and skips the comment with a notice; workflow_run comments it', async () => {
    const pr = github.addPullRequest({ fork: 'mallory/warehouse' });
    const run = await plan(pr.number, { 'github-token': 'ghs_fork' });
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /::notice::.*fork.*workflow_run/);
    assert.match(run.summary, /metaform plan/);
    assert.equal(github.commentsOn(pr.number).length, 0);
    const head = github.issues.get(pr.number)?.pull_request?.head_sha;
    const followUp = await plan(pr.number, { 'pull-request': String(pr.number) }, { name: 'workflow_run', payload: { workflow_run: { head_sha: head } } });
    assert.equal(followUp.code, 0, followUp.stdout);
    assert.equal(planComments(pr.number).length, 1);
  });

  it('keeps one comment per label (a matrix), and apply compares with its own label', async () => {
    const pr = github.addPullRequest({});
    assert.equal((await plan(pr.number, { label: 'staging' })).code, 0);
    assert.equal((await plan(pr.number, { label: 'prod' })).code, 0);
    assert.deepEqual(planComments(pr.number).map((comment) => readMarker('plan', comment.body)?.label).sort(), ['prod', 'staging']);
    const sha = newSha();
    github.merge(pr.number, sha);
    const run = await apply(sha, { label: 'prod' });
    assert.equal(run.code, 0, run.stdout);
    assert.match(outcome(pr.number), /`prod`/);
  });

  it('never overwrites the comment when the pull request has a newer head commit', async () => {
    await tables({ t1: 'One', t2: 'Two', t3: 'Three', t4: 'Four', t5: 'Five', t6: 'Six', t7: 'Seven' }, { t6: ['late_role'] });
    const pr = github.addPullRequest({});
    const stale = prEvent(pr.number);
    github.pushTo(pr.number, 'c'.repeat(40));
    const run = await plan(pr.number, {}, stale);
    assert.equal(run.code, 0, run.stdout);
    assert.match(run.stdout, /newer head commit/);
    assert.equal(github.commentsOn(pr.number).length, 0);
  });

  it('comment: on-changes and never, minimize-outdated, and comment-on-apply: false', async () => {
    const pr = github.addPullRequest({});
    assert.equal((await plan(pr.number, { comment: 'never' })).code, 0);
    assert.equal(github.commentsOn(pr.number).length, 0);
    assert.equal((await plan(pr.number, { 'minimize-outdated': 'true' })).code, 0);
    await tables({ t1: 'One', t2: 'Two', t3: 'Three', t4: 'Four', t5: 'Five', t6: 'Six', t7: 'Seven', t8: 'Eight' }, { t6: ['late_role'] });
    assert.equal((await plan(pr.number, { 'minimize-outdated': 'true' })).code, 0);
    const comments = planComments(pr.number);
    assert.deepEqual(comments.map((comment) => comment.minimized ?? null), ['OUTDATED', null]);
    const sha = newSha();
    github.merge(pr.number, sha);
    assert.equal((await apply(sha, { 'comment-on-apply': 'false' })).code, 0);
    assert.equal(outcome(pr.number), '');
    // The sources now match: on-changes posts nothing on a pull request without a comment.
    const quiet = github.addPullRequest({});
    assert.equal((await plan(quiet.number, { comment: 'on-changes' })).code, 0);
    assert.equal(github.commentsOn(quiet.number).length, 0);
  });

  it('says why a pull request opened with GITHUB_TOKEN has no reviewed plan', async () => {
    const pr = github.addPullRequest({ user: { login: 'github-actions[bot]', type: 'Bot' } });
    const sha = newSha();
    github.merge(pr.number, sha);
    const run = await apply(sha);
    assert.equal(run.outputs['failure-reason'], 'no-reviewed-plan');
    assert.match(run.stdout, /opened with GITHUB_TOKEN, and pull requests opened with GITHUB_TOKEN start no workflow.*GitHub App token or a personal token/);
  });
});
