import { join } from 'node:path';
import { loadConfig } from '../../core/config.js';
import { readRuns } from '../../core/journal.js';
import { EXIT, output, projectDir, type GlobalOptions } from '../context.js';

export interface StatusCliOptions extends GlobalOptions {
  limit: number;
  format: 'text' | 'json';
}

/** The last runs from the journal; the newest with its failed and skipped operations. */
export async function statusCommand(options: StatusCliOptions): Promise<number> {
  const io = output(options);
  const config = await loadConfig(projectDir(options));
  const runs = await readRuns(join(config.root, config.stateDir), options.limit);
  if (options.format === 'json') {
    io.out(JSON.stringify(runs, null, 2));
    return EXIT.ok;
  }
  if (runs.length === 0) {
    io.out('No runs yet. `metaform apply` records each run here.');
    return EXIT.ok;
  }
  const paint = io.colors;
  for (const run of runs) {
    const { succeeded, failed, notRun, skipped } = run.summary;
    const state = failed + notRun > 0 ? paint.red('failed') : paint.green('ok');
    io.out(`${run.startedAt}  ${state}  ${succeeded} succeeded, ${failed} failed, ${notRun} not run, ${skipped} skipped  (${run.id})`);
  }
  const [latest] = runs;
  const problems = latest?.operations.filter((operation) => operation.outcome !== 'succeeded') ?? [];
  if (problems.length > 0) {
    io.out(`\nFailed in the latest run:`);
    for (const operation of problems) io.out(`  ${paint.red('x')} ${operation.id}: ${operation.error ?? operation.outcome}\n      ${operation.statements.join(';\n      ')}`);
  }
  if (latest && latest.skipped.length > 0) {
    io.out(`\nPending (skipped by the plan):`);
    for (const skip of latest.skipped) io.out(`  ${paint.yellow('!')} ${skip.id}: ${skip.reason}`);
  }
  return EXIT.ok;
}
