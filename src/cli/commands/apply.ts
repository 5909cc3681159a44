import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline/promises';
import { MetaformError, MetaformErrors } from '../../core/errors.js';
import { applyPlan } from '../../core/pipeline.js';
import type { Plan } from '../../core/plan.js';
import { schemaValidator } from '../../core/schemas.js';
import { EXIT, load, output, type Output } from '../context.js';
import { progressBar } from '../progress.js';
import { planWithProgress, printPlan, type PlanCliOptions } from './plan.js';

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
  const validate = schemaValidator('plan');
  if (!validate(data))
    throw new MetaformErrors(
      (validate.errors ?? []).map((error) => new MetaformError(`${path}: ${error.instancePath || '(top level)'} ${error.message ?? 'is invalid'}`)),
    );
  return data as Plan;
}

async function confirm(count: number, io: Output): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw new MetaformError('apply needs confirmation, and standard input is not a terminal', undefined, 'review the plan, then run `metaform apply --auto-approve`, or apply a saved plan');
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await prompt.question(`\nApply ${count} change${count === 1 ? '' : 's'}? Only 'yes' is accepted: `);
    return answer.trim() === 'yes';
  } finally {
    prompt.close();
    void io;
  }
}

export async function applyCommand(planFile: string | undefined, options: ApplyCliOptions): Promise<number> {
  const io = output(options);
  let plan: Plan;
  let project;
  if (planFile) {
    // A saved plan was reviewed when it was made: applying it is the approval.
    [plan, project] = await Promise.all([readSavedPlan(planFile), load(options)]);
  } else {
    ({ plan, project } = await planWithProgress(options));
    printPlan(plan, 'text', io, 'plan');
    if (plan.operations.length === 0) return EXIT.ok;
    if (!options.autoApprove && !(await confirm(plan.operations.length, io))) {
      io.err('Apply cancelled.');
      return EXIT.ok;
    }
  }
  if (plan.operations.length === 0) {
    io.out('No changes to apply.');
    return EXIT.ok;
  }
  const progress = progressBar('Applying');
  let done = 0;
  let report;
  try {
    report = await applyPlan(project, plan, {
      checkStale: Boolean(planFile),
      onResult: (result, operation) => {
        progress.update(++done, plan.operations.length, operation.database);
        if (result.outcome !== 'succeeded') io.err(`${io.errColors.red('failed')} ${operation.id}: ${result.error ?? result.outcome}`);
      },
    });
  } finally {
    progress.stop();
  }
  const { summary } = report.run;
  io.out(
    `Apply ${report.failed ? 'finished with errors' : 'complete'}: ${summary.succeeded} succeeded, ${summary.failed} failed` +
      `${summary.notRun ? `, ${summary.notRun} not run` : ''}${summary.skipped ? `, ${summary.skipped} skipped` : ''}. Journal: ${report.journalPath}`,
  );
  if (report.failed) io.err('Run `metaform plan` to see what is left, `metaform status` for the errors.');
  return report.failed ? EXIT.error : EXIT.ok;
}
