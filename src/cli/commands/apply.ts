import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { MetaformError, MetaformErrors } from '../../core/errors.js';
import { applyPlan, InterruptedBeforeRun, type ApplyReport } from '../../core/pipeline.js';
import { PLAN_FORMAT_VERSION, planForServices, type Plan } from '../../core/plan.js';
import { schemaValidator } from '../../core/schemas.js';
import { EXIT, load, output, type Output } from '../context.js';
import { progressBar } from '../progress.js';
import { interruptible, restoreTerminal, SIGNAL_EXIT } from '../signals.js';
import { planWithProgress, printPlan, type PlanCliOptions } from './plan.js';
import { pushAfterApply } from './push.js';

export interface ApplyCliOptions extends PlanCliOptions {
  autoApprove?: boolean;
}

async function readSavedPlan(path: string): Promise<Plan> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new MetaformError(`cannot read plan ${path}: ${(error as Error).message}`, undefined, 'save a plan with `metaform plan --out plan.json`');
  }
  const version = (data as { formatVersion?: unknown } | null)?.formatVersion;
  if (version !== PLAN_FORMAT_VERSION)
    throw new MetaformError(
      `${path}: plan format ${JSON.stringify(version)} is not the one this metaform applies (${PLAN_FORMAT_VERSION})`,
      undefined,
      'make the plan again with this version: `metaform plan --out plan.json`',
    );
  const validate = schemaValidator('plan');
  if (!validate(data))
    throw new MetaformErrors(
      (validate.errors ?? []).map((error) => new MetaformError(`${path}: ${error.instancePath || '(top level)'} ${error.message ?? 'is invalid'}`)),
    );
  return data as Plan;
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

async function confirm(plan: Plan): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw new MetaformError('apply needs confirmation, and standard input is not a terminal', undefined, 'review the plan, then run `metaform apply --auto-approve`, or apply a saved plan');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const changes = plan.changes.length - plan.summary.skipped;
    const answer = await prompt.question(`\nApply ${plural(changes, 'change')} (${plural(plan.operations.length, 'operation')})? Only 'yes' is accepted: `);
    return answer.trim() === 'yes';
  } finally {
    prompt.close();
  }
}

/** Only the services asked for with -s; a saved plan that has none of them is an error. */
function selectServices(plan: Plan, services: string[] | undefined, path: string): Plan {
  if (!services) return plan;
  const inPlan = new Set(plan.changes.map((change) => change.service));
  const missing = services.filter((name) => !inPlan.has(name));
  if (missing.length > 0)
    throw new MetaformError(
      `${path} has no changes for service${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      undefined,
      `services in the plan: ${[...inPlan].join(', ') || '(none)'}`,
    );
  return planForServices(plan, new Set(services));
}

export async function applyCommand(planFile: string | undefined, options: ApplyCliOptions): Promise<number> {
  const io = output(options);
  let plan: Plan;
  let project;
  if (planFile) {
    // A saved plan was reviewed when it was made: applying it is the approval.
    [plan, project] = await Promise.all([readSavedPlan(planFile), load(options)]);
    plan = selectServices(plan, options.service, planFile);
  } else {
    ({ plan, project } = await planWithProgress(options));
    await printPlan(plan, 'text', io, 'plan');
    if (plan.operations.length > 0 && !options.autoApprove && !(await confirm(plan))) {
      io.err('Apply cancelled.');
      // As Terraform: a script must tell a cancel from a success.
      return EXIT.error;
    }
  }
  if (plan.operations.length === 0) {
    io.out(
      plan.summary.skipped > 0
        ? `Nothing to apply: the plan's ${plural(plan.summary.skipped, 'change')} ${plan.summary.skipped === 1 ? 'is' : 'are all'} skipped (see the reasons above or in the plan); they stay pending.`
        : 'No changes to apply.',
    );
    return EXIT.ok;
  }
  return runApply(project, plan, io);
}

async function runApply(project: Awaited<ReturnType<typeof load>>, plan: Plan, io: Output): Promise<number> {
  const progress = progressBar('Applying');
  const interruption = interruptible((signal) => {
    progress.stop();
    restoreTerminal();
    io.err(`\n${signal}: no new operation starts; waiting for those in flight to finish. Press Ctrl-C again to stop at once.`);
  });
  let done = 0;
  let report: ApplyReport;
  try {
    report = await applyPlan(project, plan, {
      signal: interruption.signal,
      interruptedBy: interruption.received,
      onStage: (stage) => progress.update(0, plan.operations.length, stage),
      onResult: (result, operation) => {
        progress.update(++done, plan.operations.length, operation.database);
        if (result.outcome === 'failed') io.err(`${io.errColors.red('failed')} ${operation.id}: ${result.error ?? result.outcome}`);
      },
    });
  } catch (error) {
    const signal = interruption.received();
    if (!(error instanceof InterruptedBeforeRun) || !signal) throw error;
    io.out(`Apply interrupted by ${signal} before any operation ran: nothing was applied.`);
    return SIGNAL_EXIT[signal];
  } finally {
    progress.stop();
    interruption.release();
    restoreTerminal();
  }
  const { summary, interrupted } = report.run;
  const notRun = report.run.operations.filter((operation) => operation.outcome === 'not-run');
  if (notRun.length > 0) {
    // One line per reason, with the count: a server that went away is not 8,000 lines.
    const reasons = new Map<string, number>();
    for (const operation of notRun) reasons.set(operation.error ?? 'not run', (reasons.get(operation.error ?? 'not run') ?? 0) + 1);
    for (const [reason, count] of reasons) io.err(`${io.errColors.yellow('not run')} ${plural(count, 'operation')}: ${reason}`);
  }
  const state = interrupted ? `interrupted by ${interrupted}` : report.failed ? 'finished with errors' : 'complete';
  io.out(
    `Apply ${state}: ${plural(summary.succeeded + summary.failed + summary.notRun, 'operation')}: ${summary.succeeded} succeeded, ${summary.failed} failed` +
      `${summary.notRun ? `, ${summary.notRun} not run` : ''}${summary.skipped ? `; ${plural(summary.skipped, 'change')} skipped` : ''}. Journal: ${report.journalPath}`,
  );
  if (report.failed) io.err('Run `metaform plan` to see what is left, `metaform status` for the errors.');
  if (interrupted) return SIGNAL_EXIT[interrupted];
  // openmetadata.push: the catalog is told what was applied; a failed catalog write fails the run too.
  const catalogFailed = project.config.openmetadata?.push ? await pushAfterApply(project, plan, report, io) : false;
  return report.failed || catalogFailed ? EXIT.error : EXIT.ok;
}
