/**
 * The plan of a one-service project, piece by piece with a clock on each: YAML loading, catalog
 * read, diff, render, report output (the text report and the saved plan), then optionally the apply.
 * Prints one JSON line (BreakdownResult); with a statements file, writes the plan's statements
 * there (a JSON array, in plan order) for the engine client's baseline.
 * Args: <project dir> <plan|apply> <work dir> [statements file]
 */
import { createWriteStream } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { createColors } from 'picocolors';
import { savePlan } from '../src/cli/commands/plan.js';
import { diffService } from '../src/core/diff.js';
import { applyPlan, connectService } from '../src/core/pipeline.js';
import { assemblePlan } from '../src/core/plan.js';
import { loadProject } from '../src/core/project.js';
import { writeLines } from '../src/report/stream.js';
import { planTextLines } from '../src/report/text.js';
import type { BreakdownResult } from './types.js';


const [dir = '.', step = 'plan', workDir = '.', statementsFile] = process.argv.slice(2);
const clock = () => {
  let last = performance.now();
  return () => {
    const now = performance.now();
    const elapsed = now - last;
    last = now;
    return elapsed;
  };
};
const lap = clock();
/** Peak RSS (MiB) reached by the end of each piece: where the memory goes. */
const peakAfter: Record<string, number> = {};
const peak = (piece: string) => (peakAfter[piece] = Math.round(process.resourceUsage().maxRSS / 1024));
const started = performance.now();

const project = await loadProject(dir);
const loadMs = lap();
peak('load');

const [entry] = project.config.services.values();
if (!entry) throw new Error('the bench project has no service');
const service = entry.config;
const connector = project.connectorFor(service.type);
if (!connector) throw new Error(`no connector ${service.type}`);
const desired = project.desired.get(service.name) ?? new Map();
const session = await connectService(entry, connector);
const schemas = new Map<string, string[]>();
for (const [name, database] of desired) schemas.set(name, [...database.children.keys()]);
const snapshot = await session.read({ databases: [...desired.keys()], schemas });
const readMs = lap();
peak('read');
const diff = diffService({ service, desired, snapshot, ...(connector.canonicalName ? { canonicalName: connector.canonicalName } : {}) });
await session.prepare?.(diff.changes, snapshot);
await session.close();
const diffMs = lap();
peak('diff');

const plan = assemblePlan([{ connector, service, changes: diff.changes, snapshot }]);
const renderMs = lap();
peak('render');

const reportFile = join(workDir, 'report.txt');
const report = createWriteStream(reportFile);
await writeLines(planTextLines(plan, { colors: createColors(false), kind: 'plan' }), report);
report.end();
await finished(report);
const reportMs = lap();
peak('report');
const planFile = join(workDir, 'plan.json');
await savePlan(plan, planFile);
const planFileMs = lap();
peak('planFile');
const planMs = performance.now() - started;

if (statementsFile) await writeFile(statementsFile, JSON.stringify(plan.operations.flatMap((operation) => operation.statements)));
let applyMs = 0;
let failed = 0;
let firstError: string | undefined;
if (step === 'apply') {
  lap();
  const applied = await applyPlan(project, plan);
  applyMs = lap();
  failed = applied.failed;
  firstError = applied.run.operations.find((operation) => operation.error !== undefined)?.error;
}

const result: BreakdownResult = {
  planMs,
  loadMs,
  readMs,
  diffMs,
  renderMs,
  reportMs,
  planFileMs,
  reportBytes: (await stat(reportFile)).size,
  planBytes: (await stat(planFile)).size,
  applyMs,
  queries: snapshot.queries,
  changes: plan.changes.length,
  operations: plan.operations.length,
  statements: plan.operations.reduce((count, operation) => count + operation.statements.length, 0),
  skipped: plan.summary.skipped,
  failed,
  ...(firstError !== undefined ? { firstError } : {}),
  peakRssMiBAfter: peakAfter,
  maxRssKiB: process.resourceUsage().maxRSS,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
