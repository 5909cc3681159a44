import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

interface Step {
  uses?: string;
  with?: Record<string, string>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  permissions: Record<string, string>;
  concurrency?: Record<string, unknown>;
  steps: Step[];
}

const read = async (path: string) =>
  parse(await readFile(new URL(`../${path}`, import.meta.url), 'utf8')) as { jobs: Record<string, Job>; inputs?: Record<string, unknown>; on?: Record<string, unknown>; env?: unknown };

/** The workflow `metaform init` scaffolds. */
describe('the scaffolded workflow', () => {
  it('runs each command in its own job with only the permissions that command needs', async () => {
    const workflow = await read('scaffold/.github/workflows/metaform.yml');
    const action = await read('action.yml');
    const needs: Record<string, Record<string, string>> = {
      plan: { contents: 'read', 'pull-requests': 'write' },
      apply: { contents: 'read', 'pull-requests': 'write' },
      drift: { contents: 'read', issues: 'write' },
    };
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const step = job.steps.find((each) => each.uses?.includes('/metaform@'));
      assert.ok(step?.with, `job ${name} uses the action`);
      const command = step.with['command'] ?? '';
      assert.deepEqual(job.permissions, needs[command], `job ${name} (${command})`);
      for (const input of Object.keys(step.with)) assert.ok(input in (action.inputs ?? {}), `input ${input} is declared in action.yml`);
    }
    assert.deepEqual(Object.values(workflow.jobs).map((job) => job.steps.find((each) => each.uses?.includes('/metaform@'))?.with?.['command']).sort(), ['apply', 'drift', 'plan']);
  });

  it('never blocks a required plan check, queues every apply, cancels superseded plans, and keeps secrets and pins tight', async () => {
    const workflow = await read('scaffold/.github/workflows/metaform.yml');
    // A paths filter on pull_request leaves a required check pending forever on pull requests that do not match.
    assert.equal(workflow.on?.['pull_request'], null, 'pull_request has no filter');
    assert.deepEqual(workflow.jobs['apply']?.concurrency, { group: 'metaform-apply', 'cancel-in-progress': false, queue: 'max' });
    assert.equal(workflow.jobs['plan']?.concurrency?.['cancel-in-progress'], true);
    assert.match(workflow.jobs['apply']?.if ?? '', /github\.event\.repository\.default_branch/, 'no hard-coded main');
    assert.equal(workflow.env, undefined, 'no workflow-wide secrets');
    for (const job of Object.values(workflow.jobs))
      for (const step of job.steps) {
        if (step.uses && !step.uses.startsWith('metaform/')) assert.match(step.uses, /@[0-9a-f]{40}$/, `${step.uses} is pinned by commit SHA`);
        if (step.env) assert.ok(step.uses?.startsWith('metaform/'), 'only the metaform steps get the secrets');
      }
    assert.match(workflow.jobs['plan']?.steps.find((step) => step.uses?.startsWith('actions/upload-artifact'))?.with?.['name'] ?? '', /artifact-name/);
  });
});
