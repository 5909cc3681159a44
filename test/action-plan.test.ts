import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readMarker } from '../src/action/marker.js';
import { runAction, type ActionInvocation } from './support/action.js';
import { GitHubEmulator } from './emulators/github/server.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

const BOT = { login: 'github-actions[bot]', type: 'Bot' as const };

describe('action: plan on a pull request', () => {
  let db: TestPostgres;
  let project: TempProject;
  let github: GitHubEmulator;

  before(async () => {
    db = await startPglite();
    await db.query(`CREATE SCHEMA shop; CREATE TABLE shop.items (id int, label text);`);
    github = await new GitHubEmulator('acme/warehouse').start();
    github.grant('ghs_write', { login: BOT.login, kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
    github.grant('ghs_read', { login: BOT.login, kind: 'installation', permissions: { issues: 'read', pull_requests: 'read' } });
    project = await tempProject(
      { version: 1, services: { shop: { type: 'postgres', connection: { host: db.connection.host, port: db.connection.port, user: 'postgres', database: 'postgres' } } } },
      {
        'metadata/shop.yaml': {
          service: 'shop',
          database: 'postgres',
          schemas: { shop: { tables: { items: { description: 'Items for sale', columns: { id: 'Item id', label: 'Shown <b>as is</b> --> here' } } } } },
        },
      },
    );
  });
  after(async () => {
    await github.stop();
    await project.remove();
    await db.close();
  });

  const invocation = (pr: number, inputs: Record<string, string> = {}): ActionInvocation => ({
    inputs: { command: 'plan', 'github-token': 'ghs_write', ...inputs },
    event: { name: 'pull_request', payload: { action: 'synchronize', number: pr, pull_request: { number: pr } } },
    repository: 'acme/warehouse',
    sha: 'a'.repeat(40),
    apiUrl: github.url,
    workspace: project.dir,
  });

  it('posts one sticky comment found among many pages of comments, and updates it in place', async () => {
    const pr = github.addPullRequest({ title: 'Describe items' });
    // Someone else's comment that quotes our marker must not be taken for ours.
    github.addComment(pr.number, '<!-- metaform:plan {"project":".","target":"*","hash":"sha256:fake"} -->\nquoted', { login: 'mallory', type: 'User' });
    for (let i = 0; i < 120; i++) github.addComment(pr.number, `review ${i}`, { login: 'jane', type: 'User' });

    const first = await runAction(invocation(pr.number));
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(first.outputs['has-changes'], 'true');
    assert.equal(first.outputs['add-count'], '3');
    assert.equal(first.outputs['change-count'], '0');
    assert.equal(first.outputs['remove-count'], '0');
    assert.equal(first.outputs['skipped-count'], '0');
    assert.match(first.outputs['plan-hash'] ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal(JSON.parse(first.outputs['plan-json'] ?? '{}').changes.length, 3);
    const ours = github.commentsOn(pr.number).filter((comment) => comment.user.login === BOT.login);
    assert.equal(ours.length, 1);
    const body = ours[0]?.body ?? '';
    const marker = readMarker('plan', body);
    assert.equal(marker?.hash, first.outputs['plan-hash']);
    assert.equal(marker?.truncated, false);
    assert.match(body, /\| shop \| table \| 1 \| 0 \| 0 \| 0 \|/);
    assert.match(body, /\| shop \| column \| 2 \| 0 \| 0 \| 0 \|/);
    assert.match(body, /# shop\.postgres\.shop\.items \(table\)\n\+ description: "Items for sale"\n {4}COMMENT ON TABLE "shop"\."items" IS 'Items for sale';/);
    assert.doesNotMatch(body.split('\n')[0] ?? '', /-->.*-->/, 'a value cannot end the marker early');
    assert.match(first.summary, /metaform plan/);
    assert.match(first.summary, /COMMENT ON COLUMN/);

    // A new push: the plan changes, the same comment is edited.
    await project.write('metadata/shop.yaml', {
      service: 'shop',
      database: 'postgres',
      schemas: { shop: { tables: { items: { description: 'Items on sale' } } } },
    });
    const second = await runAction(invocation(pr.number));
    assert.equal(second.code, 0, second.stdout + second.stderr);
    const after = github.commentsOn(pr.number).filter((comment) => comment.user.login === BOT.login);
    assert.equal(after.length, 1, 'updated in place, not posted again');
    assert.equal(after[0]?.id, ours[0]?.id);
    assert.equal(readMarker('plan', after[0]?.body ?? '')?.hash, second.outputs['plan-hash']);
    assert.notEqual(second.outputs['plan-hash'], first.outputs['plan-hash']);
    assert.ok(github.requests.some((request) => /\/issues\/\d+\/comments\?.*page=2/.test(request)), 'the second page was read');
  });

  it('keeps one comment per project and target (services)', async () => {
    const pr = github.addPullRequest({});
    assert.equal((await runAction(invocation(pr.number))).code, 0);
    assert.equal((await runAction(invocation(pr.number, { services: 'shop' }))).code, 0);
    assert.equal((await runAction(invocation(pr.number, { services: 'shop' }))).code, 0);
    const markers = github.commentsOn(pr.number).map((comment) => readMarker('plan', comment.body));
    assert.deepEqual(markers.map((marker) => marker?.target).sort(), ['*', 'shop']);
  });

  it('retries after a rate limit, honouring retry-after', async () => {
    const pr = github.addPullRequest({});
    github.failNext({ status: 429, retryAfter: 1 }, { status: 403, retryAfter: 1 });
    const run = await runAction(invocation(pr.number));
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /rate limit .*retrying after 1 s/);
    assert.equal(github.commentsOn(pr.number).length, 1);
  });

  it('fails with permission-denied and names the permission when the token may not comment', async () => {
    const pr = github.addPullRequest({});
    const run = await runAction(invocation(pr.number, { 'github-token': 'ghs_read' }));
    assert.equal(run.code, 1);
    assert.equal(run.outputs['failure-reason'], 'permission-denied');
    assert.match(run.stdout, /::error::the token may not comment on #\d+ \(403 Resource not accessible by integration.*pull-requests: write/);
    assert.equal(run.outputs['has-changes'], 'true', 'the plan outputs are set before the comment fails');
  });

  it('fails with the YAML location as an annotation when the project is invalid', async () => {
    const broken = await tempProject({ version: 1, services: { shop: { type: 'postgres', connection: { host: '127.0.0.1' } } } }, { 'metadata/x.yaml': { service: 'nope', database: 'd' } });
    try {
      const run = await runAction({ ...invocation(1), workspace: broken.dir });
      assert.equal(run.code, 1);
      assert.equal(run.outputs['failure-reason'], 'error');
      assert.match(run.stdout, /::error title=metaform,file=metadata\/x\.yaml,line=\d+,col=\d+::.*nope/);
    } finally {
      await broken.remove();
    }
  });

  it('replaces the plan comment with the error when planning fails, so no stale plan looks current', async () => {
    const pr = github.addPullRequest({});
    assert.equal((await runAction(invocation(pr.number))).code, 0);
    await project.write('metadata/shop.yaml', { service: 'shop', database: 'postgres', schemas: { shop: { tables: { items: { description: 'Items' }, missing_table: { description: 'Nope' } } } } });
    const failed = await runAction(invocation(pr.number));
    assert.equal(failed.code, 1);
    assert.equal(failed.outputs['failure-reason'], 'error');
    const comments = github.commentsOn(pr.number).filter((comment) => readMarker('plan', comment.body));
    assert.equal(comments.length, 1);
    const body = comments[0]?.body ?? '';
    assert.equal(readMarker('plan', body)?.hash, 'failed');
    assert.match(body, /❌ The plan failed/);
    assert.match(body, /missing_table does not exist at the source/);
  });

  it('says pull is not available yet', async () => {
    const run = await runAction({ ...invocation(1), inputs: { command: 'pull', 'github-token': 'ghs_write' } });
    assert.equal(run.code, 1);
    assert.equal(run.outputs['failure-reason'], 'not-available');
  });
});
