import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { context, getOctokit } from '@actions/github';
import type { RunContext } from '../src/action/context.js';
import { pullCommand } from '../src/action/pull.js';
import { tempProject, type TempProject } from './support/project.js';
import { proposeChanges, type ProposedChanges } from '../src/action/pull-request.js';
import { GitHubEmulator } from './emulators/github/server.js';

/** The pull-request half of `pull`: edits as one branch and one pull request, updated in place. */
describe('action: catalog edits as one pull request', () => {
  let github: GitHubEmulator;
  const repo = { owner: 'acme', repo: 'warehouse' };
  const octokit = (token: string) => getOctokit(token, { baseUrl: github.url });

  before(async () => {
    github = await new GitHubEmulator('acme/warehouse').start();
    github.actionsMayCreatePullRequests = true;
    github.grant('ghs_write', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write', contents: 'write' } });
    github.grant('ghs_nocontents', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write', contents: 'read' } });
    github.commitFiles('main', { 'metaform.yaml': 'version: 1\n', 'metadata/shop.yaml': 'description: old\n', 'metadata/gone.yaml': 'x\n' });
  });
  after(() => github.stop());

  const proposal = (files: Record<string, string | null>, title = 'metaform: catalog edits'): ProposedChanges => ({
    base: 'main',
    branch: 'metaform/pull',
    title,
    body: 'Edits made in the catalog.',
    commitMessage: 'metaform pull: catalog edits',
    files: new Map(Object.entries(files)),
  });

  it('creates the branch and the pull request, then updates them in place, and writes nothing when nothing changed', async () => {
    const first = await proposeChanges(octokit('ghs_write'), repo, proposal({ 'metadata/shop.yaml': 'description: new\n', 'metadata/gone.yaml': null }));
    assert.equal(first.state, 'created');
    assert.deepEqual(Object.fromEntries(github.filesOf('metaform/pull')), { 'metaform.yaml': 'version: 1\n', 'metadata/shop.yaml': 'description: new\n' });
    assert.equal(github.issues.get(first.pullRequest)?.pull_request?.head, 'metaform/pull');

    // main moves on, and the catalog has more edits: same pull request, branch rebuilt on the new main.
    github.commitFiles('main', { 'metaform.yaml': 'version: 1\n', 'metadata/shop.yaml': 'description: old\n', 'metadata/gone.yaml': 'x\n', 'README.md': 'hi\n' });
    const second = await proposeChanges(octokit('ghs_write'), repo, proposal({ 'metadata/shop.yaml': 'description: newer\n', 'metadata/gone.yaml': null }, 'metaform: 2 catalog edits'));
    assert.equal(second.state, 'updated');
    assert.equal(second.pullRequest, first.pullRequest);
    assert.equal(github.filesOf('metaform/pull').get('metadata/shop.yaml'), 'description: newer\n');
    assert.equal(github.filesOf('metaform/pull').get('README.md'), 'hi\n');
    assert.equal(github.commits.get(second.commit)?.parents[0], github.refs.get('main'));
    assert.equal(github.issues.get(first.pullRequest)?.title, 'metaform: 2 catalog edits');
    assert.equal([...github.issues.values()].filter((issue) => issue.pull_request?.head === 'metaform/pull').length, 1);

    const writes = github.requests.filter((request) => !request.startsWith('GET')).length;
    const third = await proposeChanges(octokit('ghs_write'), repo, proposal({ 'metadata/shop.yaml': 'description: newer\n', 'metadata/gone.yaml': null }, 'metaform: 2 catalog edits'));
    assert.equal(third.state, 'unchanged');
    assert.equal(third.commit, second.commit);
    // Only the tree is written (GitHub's way to learn the tree's sha); no commit, ref or pull request write.
    assert.deepEqual(github.requests.filter((request) => !request.startsWith('GET')).slice(writes), ['POST /repos/acme/warehouse/git/trees']);
  });

  it('opens a new pull request once the last one was merged', async () => {
    const open = [...github.issues.values()].find((issue) => issue.pull_request?.head === 'metaform/pull' && issue.state === 'open');
    assert.ok(open);
    github.merge(open.number, github.commitFiles('main', Object.fromEntries(github.filesOf('metaform/pull')), 'merge'));
    const next = await proposeChanges(octokit('ghs_write'), repo, proposal({ 'metadata/shop.yaml': 'description: newest\n' }));
    assert.equal(next.state, 'created');
    assert.notEqual(next.pullRequest, open.number);
  });

  it('says what to do when the repository forbids GitHub Actions to create pull requests', async () => {
    github.actionsMayCreatePullRequests = false;
    try {
      await assert.rejects(proposeChanges(octokit('ghs_write'), repo, { ...proposal({ 'metadata/shop.yaml': 'description: refused\n' }), branch: 'metaform/pull-refused' }), (error: Error & { reason?: string; fix?: string }) => {
        assert.equal(error.reason, 'permission-denied');
        assert.match(error.message, /does not allow GitHub Actions to create pull requests/);
        assert.match(error.fix ?? '', /GitHub App token or a personal token/);
        return true;
      });
    } finally {
      github.actionsMayCreatePullRequests = true;
    }
  });

  it('names contents: write when the token may not push', async () => {
    await assert.rejects(proposeChanges(octokit('ghs_nocontents'), repo, proposal({ 'metadata/shop.yaml': 'description: other\n' })), (error: Error & { reason?: string }) => {
      assert.equal(error.reason, 'permission-denied');
      assert.match(error.message, /may not write the tree of metaform\/pull/);
      assert.match((error as Error & { fix?: string }).fix ?? '', /contents: write/);
      return true;
    });
  });
});

describe('action: pull command', () => {
  let github: GitHubEmulator;
  let project: TempProject;
  before(async () => {
    github = await new GitHubEmulator('acme/warehouse').start();
    github.actionsMayCreatePullRequests = true;
    github.grant('ghs_write', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write', contents: 'write' } });
    github.commitFiles('trunk', { 'analytics/metaform.yaml': 'version: 1\n' });
    github.actionsMayCreatePullRequests = true;
    project = await tempProject({ version: 1, services: { shop: { type: 'postgres', connection: { host: '127.0.0.1' } } } }, { 'metadata/.keep.yaml': '' });
  });
  after(async () => {
    await github.stop();
    await project.remove();
  });

  it('turns the edits of a registered provider into a pull request on the default branch (asked of GitHub on a schedule), paths under the project folder', async () => {
    const previous = process.env['GITHUB_API_URL'];
    process.env['GITHUB_API_URL'] = github.url;
    try {
      const run = { project: 'analytics', target: '*', root: project.dir, repo: { owner: 'acme', repo: 'warehouse' }, token: 'ghs_write' } as RunContext;
      // A scheduled run: the payload has no repository, so the default branch comes from GitHub.
      github.defaultBranch = 'trunk';
      context.payload = {};
      // @actions/core writes workflow commands to stdout.
      const written: string[] = [];
      const write = process.stdout.write.bind(process.stdout);
      process.stdout.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
      try {
        await pullCommand(run, async () => ({ files: new Map([['metadata/shop.yaml', 'description: from the catalog\n']]), title: 'metaform: 1 catalog edit', body: 'jane edited shop' }));
      } finally {
        process.stdout.write = write;
      }
      assert.match(written.join(''), /::warning::pull request #\d+ was written with GITHUB_TOKEN.*starts no workflow/);
      assert.equal(github.filesOf('metaform/pull-analytics').get('analytics/metadata/shop.yaml'), 'description: from the catalog\n');
      const pr = [...github.issues.values()].find((issue) => issue.pull_request?.head === 'metaform/pull-analytics');
      assert.equal(pr?.pull_request?.base, 'trunk');
      assert.equal(pr?.title, 'metaform: 1 catalog edit');
    } finally {
      if (previous === undefined) delete process.env['GITHUB_API_URL'];
      else process.env['GITHUB_API_URL'] = previous;
    }
  });
});
