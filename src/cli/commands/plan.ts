import { writeFile } from 'node:fs/promises';
import { createPlan, type PlanOptions } from '../../core/pipeline.js';
import { hasChanges, type Plan } from '../../core/plan.js';
import { planMarkdown } from '../../report/markdown.js';
import { planText } from '../../report/text.js';
import { EXIT, load, output, type GlobalOptions, type Output } from '../context.js';
import { progressBar } from '../progress.js';

export type ReportFormat = 'text' | 'json' | 'markdown';

export interface PlanCliOptions extends GlobalOptions {
  service?: string[];
  out?: string;
  format: ReportFormat;
  detailedExitcode?: boolean;
  allowMissing?: boolean;
}

export function printPlan(plan: Plan, format: ReportFormat, io: Output, kind: 'plan' | 'drift'): void {
  if (format === 'json') io.out(JSON.stringify(plan, null, 2));
  else if (format === 'markdown') io.out(planMarkdown(plan, kind));
  else io.out(planText(plan, { colors: io.colors, kind }));
}

/** Reads live state with a progress bar on a terminal. */
export async function planWithProgress(options: PlanCliOptions, planOptions: PlanOptions = {}) {
  const project = await load(options);
  const progress = progressBar('Reading catalogs');
  try {
    const outcome = await createPlan(project, {
      ...(options.service ? { services: options.service } : {}),
      allowMissing: Boolean(options.allowMissing),
      onProgress: (done, total, label) => progress.update(done, total, label),
      ...planOptions,
    });
    return { project, ...outcome };
  } finally {
    progress.stop();
  }
}

export async function planCommand(options: PlanCliOptions): Promise<number> {
  const io = output(options);
  const { plan } = await planWithProgress(options);
  if (options.out) {
    await writeFile(options.out, `${JSON.stringify(plan, null, 2)}\n`);
    io.err(`Saved the plan to ${options.out}; apply it with: metaform apply ${options.out}`);
  }
  printPlan(plan, options.format, io, 'plan');
  return options.detailedExitcode && hasChanges(plan) ? EXIT.changes : EXIT.ok;
}
