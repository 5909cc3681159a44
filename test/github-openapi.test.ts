import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { getOctokit } from '@actions/github';
import { GitHubEmulator } from './emulators/github/server.js';
import { SERVED } from './emulators/github/openapi-extract.js';

interface Subset {
  responses: Record<string, Record<string, object>>;
  components: { schemas: Record<string, object> };
}

/** OpenAPI 3.0's `nullable: true` as JSON Schema: null is allowed besides what the schema says. */
function jsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) if (key !== 'nullable') out[key] = key === 'properties' ? Object.fromEntries(Object.entries(value as object).map(([name, schema]) => [name, jsonSchema(schema)])) : jsonSchema(value);
  if ((node as { nullable?: boolean }).nullable !== true) return out;
  if (typeof out['type'] === 'string' && !out['enum']) return { ...out, type: [out['type'], 'null'] };
  return { anyOf: [out, { type: 'null' }] };
}

/** Every answer of the GitHub emulator validates against GitHub's OpenAPI response schema for its endpoint. */
describe('GitHub emulator against the OpenAPI description', () => {
  let github: GitHubEmulator;
  const seen = new Set<string>();
  const problems: string[] = [];

  before(async () => {
    github = await new GitHubEmulator('acme/warehouse').start();
    github.grant('pat', { login: 'jane', kind: 'user', permissions: { issues: 'write', pull_requests: 'write', contents: 'write' } });
  });
  after(() => github.stop());

  it('answers each served endpoint with JSON its response schema accepts', async () => {
    const subset = JSON.parse(await readFile(new URL('./emulators/github/openapi-subset.json', import.meta.url), 'utf8')) as Subset;
    // `example` and the x-github extensions are annotations.
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'github', components: jsonSchema(subset.components) });
    const validate = (key: string, status: number, data: unknown) => {
      const schema = subset.responses[key]?.[String(status)];
      if (!schema) return problems.push(`${key} ${status}: no schema`);
      const check = ajv.compile(jsonSchema(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"github#/components/'))) as object);
      if (!check(data)) problems.push(`${key} ${status}: ${ajv.errorsText(check.errors?.slice(0, 5))}`);
      seen.add(key);
      return undefined;
    };
    const octokit = getOctokit('pat', { baseUrl: github.url });
    octokit.hook.after('request', (response, options) => {
      validate(`${options.method} ${options.url}`, response.status, response.data);
    });
    const repo = { owner: 'acme', repo: 'warehouse' };
    await octokit.rest.users.getAuthenticated();
    await octokit.rest.repos.get(repo);
    const base = github.commitFiles('main', { 'metaform.yaml': 'version: 1\n' });
    const issue = await octokit.rest.issues.create({ ...repo, title: 'drift', body: 'b', labels: ['metaform-drift'] });
    await octokit.rest.issues.get({ ...repo, issue_number: issue.data.number });
    await octokit.rest.issues.update({ ...repo, issue_number: issue.data.number, state: 'closed' });
    await octokit.rest.issues.addLabels({ ...repo, issue_number: issue.data.number, labels: ['x'] });
    await octokit.rest.issues.listForRepo({ ...repo, state: 'all' });
    const comment = await octokit.rest.issues.createComment({ ...repo, issue_number: issue.data.number, body: 'hi' });
    await octokit.rest.issues.updateComment({ ...repo, comment_id: comment.data.id, body: 'hello' });
    await octokit.rest.issues.listComments({ ...repo, issue_number: issue.data.number });
    await octokit.rest.git.getRef({ ...repo, ref: 'heads/main' });
    const commit = await octokit.rest.git.getCommit({ ...repo, commit_sha: base });
    const tree = await octokit.rest.git.createTree({ ...repo, base_tree: commit.data.tree.sha, tree: [{ path: 'a.yaml', mode: '100644', type: 'blob', content: 'a' }] });
    const created = await octokit.rest.git.createCommit({ ...repo, message: 'm', tree: tree.data.sha, parents: [base] });
    await octokit.rest.git.createRef({ ...repo, ref: 'refs/heads/edits', sha: created.data.sha });
    await octokit.rest.git.updateRef({ ...repo, ref: 'heads/edits', sha: created.data.sha, force: true });
    const pull = await octokit.rest.pulls.create({ ...repo, head: 'edits', base: 'main', title: 't', body: 'b' });
    await octokit.rest.pulls.update({ ...repo, pull_number: pull.data.number, title: 't2' });
    await octokit.rest.pulls.list({ ...repo, state: 'all' });
    github.merge(pull.data.number, 'beef0002');
    await octokit.rest.pulls.get({ ...repo, pull_number: pull.data.number });
    await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: 'beef0002' });
    assert.deepEqual(problems, []);
    assert.deepEqual(SERVED.map(([method, path]) => `${method.toUpperCase()} ${path}`).filter((key) => !seen.has(key)), [], 'every served endpoint was checked');
  });
});
