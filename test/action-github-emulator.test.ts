import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getOctokit } from '@actions/github';
import { throttling } from '@octokit/plugin-throttling';
import { BODY_LIMIT, GitHubEmulator } from './emulators/github/server.js';

/** The emulator, driven by the same octokit as production. */
describe('GitHub emulator', () => {
  let github: GitHubEmulator;
  const bot = { login: 'github-actions[bot]', type: 'Bot' as const };
  /** The retry-after values the throttling plugin read, as it waits that long before retrying. */
  const waits: number[] = [];
  const client = (token: string, retries = 0) =>
    getOctokit(
      token,
      {
        baseUrl: github.url,
        throttle: {
          onRateLimit: (after: number, _options: object, _octokit: unknown, retryCount: number) => (waits.push(after), retryCount < retries),
          onSecondaryRateLimit: (after: number, _options: object, _octokit: unknown, retryCount: number) => (waits.push(after), retryCount < retries),
        },
      },
      throttling,
    );

  before(async () => {
    github = await new GitHubEmulator('acme/warehouse').start();
    github.grant('write', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
    github.grant('read', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'read', pull_requests: 'read' } });
    github.grant('pat', { login: 'jane', kind: 'user', permissions: { issues: 'write', pull_requests: 'write' } });
  });
  after(() => github.stop());

  const repo = { owner: 'acme', repo: 'warehouse' };

  it('pages comments 30 at a time by default, and paginate follows the Link header to every one', async () => {
    const pr = github.addPullRequest({});
    for (let i = 0; i < 245; i++) github.addComment(pr.number, `comment ${i}`, bot);
    const octokit = client('write');
    const first = await octokit.rest.issues.listComments({ ...repo, issue_number: pr.number });
    assert.equal(first.data.length, 30);
    assert.match(first.headers.link ?? '', /rel="next"/);
    const all = await octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: pr.number, per_page: 100 });
    assert.equal(all.length, 245);
    assert.equal(all[244]?.body, 'comment 244');
  });

  it('refuses a body over 65,536 characters with 422 as GitHub does, and accepts one at the limit (counted in code points)', async () => {
    const pr = github.addPullRequest({});
    const octokit = client('write');
    await assert.rejects(octokit.rest.issues.createComment({ ...repo, issue_number: pr.number, body: 'x'.repeat(BODY_LIMIT + 1) }), (error: Error & { status?: number }) => {
      assert.equal(error.status, 422);
      assert.match(error.message, /body is too long \(maximum is 65536 characters\)/);
      return true;
    });
    const created = await octokit.rest.issues.createComment({ ...repo, issue_number: pr.number, body: '😀'.repeat(BODY_LIMIT) });
    assert.equal(created.status, 201);
    const updated = await octokit.rest.issues.updateComment({ ...repo, comment_id: created.data.id, body: 'short' });
    assert.equal(updated.data.body, 'short');
  });

  it('answers 403 to a token without write permission, 401 to an unknown one, and 403 to GET /user for an installation token', async () => {
    const pr = github.addPullRequest({});
    await assert.rejects(client('read').rest.issues.createComment({ ...repo, issue_number: pr.number, body: 'hi' }), { status: 403, message: /Resource not accessible by integration/ });
    await assert.rejects(client('nobody').rest.issues.listComments({ ...repo, issue_number: pr.number }), { status: 401 });
    await assert.rejects(client('write').rest.users.getAuthenticated(), { status: 403 });
    assert.equal((await client('pat').rest.users.getAuthenticated()).data.login, 'jane');
  });

  it('lists the pull requests of a merge commit', async () => {
    const pr = github.addPullRequest({ merged: { sha: 'abc123' } });
    const octokit = client('write');
    const pulls = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: 'abc123' });
    assert.deepEqual(pulls.data.map((pull) => [pull.number, pull.merge_commit_sha]), [[pr.number, 'abc123']]);
    assert.equal((await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: 'fff0000' })).data.length, 0);
  });

  it('closes merged pull requests, lists them by branch name as commit_sha, and links a merge commit only after a moment', async () => {
    const octokit = client('write');
    github.commitFiles('topic', { a: '1' });
    const open = github.addPullRequest({ head: 'topic' });
    assert.deepEqual((await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: 'topic' })).data.map((pull) => pull.number), [open.number]);
    github.merge(open.number, 'beef0001', 1);
    assert.equal((await octokit.rest.pulls.get({ ...repo, pull_number: open.number })).data.state, 'closed');
    assert.equal((await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: 'beef0001' })).data.length, 0, 'not linked yet');
    assert.equal((await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: 'beef0001' })).data.length, 1);
  });

  it('answers a body that is not JSON with 400', async () => {
    const response = await fetch(`${github.url}/repos/acme/warehouse/issues`, { method: 'POST', headers: { authorization: 'token write' }, body: '{not json' });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { message: string }).message, /Problems parsing JSON/);
  });

  it("tells an App installation token its bot login through GraphQL viewer, and minimizes comments", async () => {
    github.grant('app', { login: 'metaform-app[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
    await assert.rejects(client('app').rest.users.getAuthenticated(), { status: 403 });
    const viewer = await client('app').graphql<{ viewer: { login: string } }>('query { viewer { login } }');
    assert.equal(viewer.viewer.login, 'metaform-app[bot]');
    await assert.rejects(client('app').graphql('query { viewer { name } }'), /Cannot query field "name"/);
    const pr = github.addPullRequest({});
    const comment = await client('app').rest.issues.createComment({ ...repo, issue_number: pr.number, body: 'old' });
    await client('app').graphql('mutation($id: ID!) { minimizeComment(input: { subjectId: $id, classifier: OUTDATED }) { minimizedComment { isMinimized } } }', { id: comment.data.node_id });
    assert.equal(github.comments.get(comment.data.id)?.minimized, 'OUTDATED');
  });

  it('refuses GITHUB_TOKEN a pull request unless the repository allows it, and starts no workflow for what GITHUB_TOKEN does', async () => {
    github.grant('contents', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write', contents: 'write' } });
    github.grant('app-contents', { login: 'metaform-app[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write', contents: 'write' } });
    github.commitFiles('main', { a: '1' });
    github.commitFiles('edits', { a: '2' });
    await assert.rejects(client('contents').rest.pulls.create({ ...repo, head: 'edits', base: 'main', title: 't' }), { status: 403, message: /GitHub Actions is not permitted to create or approve pull requests/ });
    github.actionsMayCreatePullRequests = true;
    const before = github.triggers.length;
    await client('contents').rest.pulls.create({ ...repo, head: 'edits', base: 'main', title: 't' });
    assert.equal(github.triggers.length, before, 'GITHUB_TOKEN triggers nothing');
    github.commitFiles('edits2', { a: '3' });
    await client('app-contents').rest.pulls.create({ ...repo, head: 'edits2', base: 'main', title: 't' });
    assert.equal(github.triggers.at(-1)?.event, 'pull_request');
  });

  it('creates, filters by label and state, closes and reopens issues', async () => {
    const octokit = client('write');
    const created = await octokit.rest.issues.create({ ...repo, title: 'drift', body: 'b', labels: ['metaform-drift'] });
    await octokit.rest.issues.update({ ...repo, issue_number: created.data.number, state: 'closed' });
    const open = await octokit.rest.issues.listForRepo({ ...repo, labels: 'metaform-drift' });
    assert.equal(open.data.length, 0);
    const all = await octokit.rest.issues.listForRepo({ ...repo, labels: 'metaform-drift', state: 'all' });
    assert.deepEqual(all.data.map((issue) => [issue.number, issue.state]), [[created.data.number, 'closed']]);
    await octokit.rest.issues.update({ ...repo, issue_number: created.data.number, state: 'open' });
    assert.equal(github.issues.get(created.data.number)?.state, 'open');
    await octokit.rest.issues.addLabels({ ...repo, issue_number: created.data.number, labels: ['x'] });
    assert.deepEqual(github.issues.get(created.data.number)?.labels, ['metaform-drift', 'x']);
  });

  it('answers 429 with retry-after, which the throttling plugin honours before retrying', async () => {
    const octokit = client('write', 2);
    github.failNext({ status: 429, retryAfter: 1 });
    waits.length = 0;
    const before = github.requests.length;
    const result = await octokit.rest.issues.listForRepo({ ...repo });
    assert.equal(result.status, 200);
    assert.deepEqual(waits, [1]);
    assert.equal(github.requests.length - before, 2, 'one refused request, one retry');
    github.failNext({ status: 403, retryAfter: 1 }, { status: 403, retryAfter: 1 });
    await assert.rejects(client('write', 1).rest.issues.listForRepo({ ...repo }), { status: 403, message: /secondary rate limit/ });
  });
});
