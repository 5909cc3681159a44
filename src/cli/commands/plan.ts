import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { MetaformError } from '../../core/errors.js';
import { createPlan, type PlanOptions } from '../../core/pipeline.js';
import { hasChanges, type Plan } from '../../core/plan.js';
import { planJsonLines } from '../../report/json.js';
import { planMarkdownLines } from '../../report/markdown.js';
import { chunked, writeLines } from '../../report/stream.js';
import { planTextLines } from '../../report/text.js';
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

/** Streams the report to `stream` (standard output by default) as it is produced. */
export function printPlan(plan: Plan, format: ReportFormat, io: Output, kind: 'plan' | 'drift', stream: NodeJS.WritableStream = process.stdout): Promise<void> {
  const lines = format === 'json' ? planJsonLines(plan) : format === 'markdown' ? planMarkdownLines(plan, kind) : planTextLines(plan, { colors: io.colors, kind });
  return writeLines(lines, stream);
}

/** The plan file: the same JSON as `--format json`, written line by line. */
export async function savePlan(plan: Plan, path: string): Promise<void> {
  try {
    await pipeline(Readable.from(chunked(planJsonLines(plan))), createWriteStream(path));
  } catch (error) {
    throw new MetaformError(`cannot write the plan to ${path}: ${error instanceof Error ? error.message : String(error)}`, undefined, 'give --out a path in an existing, writable directory');
  }
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
    await savePlan(plan, options.out);
    io.err(`Saved the plan to ${options.out}; apply it with: metaform apply ${options.out}`);
  }
  await printPlan(plan, options.format, io, 'plan');
  return options.detailedExitcode && hasChanges(plan) ? EXIT.changes : EXIT.ok;
}
