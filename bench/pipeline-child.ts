/**
 * One metaform step over a project, in its own process: `plan` (load + read + diff + render) or
 * `apply` (plan, then apply). Prints {planMs, loadMs (the YAML part of planMs), applyMs, queries, changes, failed, maxRssKiB}.
 */
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { loadProject } from '../src/core/project.js';

const [dir = '.', step = 'plan'] = process.argv.slice(2);
const started = performance.now();
const project = await loadProject(dir);
const loadMs = performance.now() - started;
const { plan, queries } = await createPlan(project);
const planMs = performance.now() - started;
let applyMs = 0;
let failed = 0;
if (step === 'apply') {
  const applyStarted = performance.now();
  const report = await applyPlan(project, plan);
  applyMs = performance.now() - applyStarted;
  failed = report.failed;
}
process.stdout.write(
  `${JSON.stringify({ planMs, loadMs, applyMs, queries, changes: plan.changes.length, failed, maxRssKiB: process.resourceUsage().maxRSS })}\n`,
);
