import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

interface Step {
  uses?: string;
  with?: Record<string, string>;
}
interface Job {
  if?: string;
  permissions: Record<string, string>;
  steps: Step[];
}

const read = async (path: string) => parse(await readFile(new URL(`../${path}`, import.meta.url), 'utf8')) as { jobs: Record<string, Job>; inputs?: Record<string, unknown> };

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
});
