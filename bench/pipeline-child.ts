/**
 * One metaform step over a project, in its own process: `plan` (load + read + diff + render) or
 * `apply` (plan, then apply). Prints {planMs, loadMs (the YAML part of planMs), applyMs, queries,
 * changes, columnChanges, operations, skipped, failed, maxRssKiB}. With a third argument, writes
 * the plan's statements there (a JSON array, in plan order) for the engine client's baseline.
 */
import { writeFile } from 'node:fs/promises';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { loadProject } from '../src/core/project.js';

const [dir = '.', step = 'plan', statementsFile] = process.argv.slice(2);
const started = performance.now();
const project = await loadProject(dir);
const loadMs = performance.now() - started;
const { plan, queries } = await createPlan(project);
const planMs = performance.now() - started;
if (statementsFile) await writeFile(statementsFile, JSON.stringify(plan.operations.flatMap((operation) => operation.statements)));
let applyMs = 0;
let failed = 0;
let firstError: string | undefined;
if (step === 'apply') {
  const applyStarted = performance.now();
  const report = await applyPlan(project, plan);
  applyMs = performance.now() - applyStarted;
  failed = report.failed;
  firstError = report.run.operations.find((operation) => operation.error !== undefined)?.error;
}
process.stdout.write(
  `${JSON.stringify({
    planMs,
    loadMs,
    applyMs,
    queries,
    changes: plan.changes.length,
    columnChanges: plan.changes.filter((change) => change.level === 'column').length,
    operations: plan.operations.length,
    skipped: plan.summary.skipped,
    failed,
    ...(firstError !== undefined ? { firstError } : {}),
    maxRssKiB: process.resourceUsage().maxRSS,
  })}\n`,
);
