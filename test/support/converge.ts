import assert from 'node:assert/strict';
import { applyPlan, createPlan } from '../../src/core/pipeline.js';
import { loadProject } from '../../src/core/project.js';
import type { TempProject } from './project.js';

/** plan -> apply (the plan as saved to a file) -> plan: nothing skipped, nothing failed, nothing left. */
export async function converge(dir: TempProject): Promise<void> {
  const loaded = await loadProject(dir.dir);
  const { plan } = await createPlan(loaded);
  assert.equal(plan.summary.skipped, 0, JSON.stringify(plan.changes.filter((change) => change.skipped)));
  const report = await applyPlan(loaded, JSON.parse(JSON.stringify(plan)));
  assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error).filter(Boolean)));
  const again = await createPlan(loaded);
  assert.deepEqual(again.plan.changes.map((change) => `${change.id}: ${JSON.stringify(change.before)} -> ${JSON.stringify(change.after)}`), []);
}
