import { join, resolve } from 'node:path';
import { loadConfig } from '../../core/config.js';
import { readRuns, type JournalRun } from '../../core/journal.js';
import type { Colors } from '../../report/style.js';
import { escapeControls } from '../../report/values.js';
import { EXIT, output, projectDir, type GlobalOptions } from '../context.js';
import { catalogJournalPath, readCatalogJournal } from './push.js';

export interface StatusCliOptions extends GlobalOptions {
  limit: number;
  format: 'text' | 'json';
}

/** Operations listed under the latest run; the rest are counted. */
const LISTED = 50;

function stateOf(run: JournalRun, paint: Colors): string {
  const { failed, notRun } = run.summary;
  switch (run.state) {
    case 'running':
      return paint.yellow('running');
    case 'killed':
      return paint.red('interrupted (no end record: killed or crashed)');
    case 'interrupted':
      return paint.red(`interrupted by ${run.interrupted ?? 'a signal'}`);
    case 'complete':
      return failed + notRun > 0 ? paint.red('failed') : paint.green('ok');
  }
}

/** The last runs from the journal; the newest with its failed, not-run and skipped operations. */
export async function statusCommand(options: StatusCliOptions): Promise<number> {
  const io = output(options);
  const config = await loadConfig(projectDir(options));
  const { runs, unreadable } = await readRuns(resolve(config.root, config.stateDir), options.limit);
  for (const file of unreadable) io.err(`Warning: skipped unreadable run file ${join(config.stateDir, 'runs', file.name)}: ${file.reason}`);
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
    const recorded = succeeded + failed + notRun;
    const missing = run.planned.operations - recorded;
    const unrecorded = run.state === 'killed' && missing > 0 ? `, ${missing} of ${run.planned.operations} not recorded` : '';
    io.out(
      `${run.startedAt}  ${stateOf(run, paint)}  operations: ${succeeded} succeeded, ${failed} failed, ${notRun} not run${unrecorded}; ${skipped} changes skipped  (${run.id})`,
    );
  }
  const [latest] = runs;
  if (!latest) return EXIT.ok;
  if (latest.unreadableLines > 0) io.out(paint.yellow(`\nThe latest run's record has ${latest.unreadableLines} unreadable line(s) (cut short when the run was killed).`));
  if (latest.state === 'killed')
    io.out(`\nThe latest run ended without its end record; operations not listed in it may or may not have run. \`metaform plan\` shows what is left.`);
  const problems = latest.operations.filter((operation) => operation.outcome !== 'succeeded');
  if (problems.length > 0) {
    io.out(`\nNot applied in the latest run (${problems.length} operation${problems.length === 1 ? '' : 's'}):`);
    for (const operation of problems.slice(0, LISTED))
      io.out(`  ${paint.red('x')} ${operation.id}: ${operation.outcome === 'not-run' ? 'not run: ' : ''}${operation.error ?? operation.outcome}\n      ${operation.statements.join(';\n      ')}`);
    if (problems.length > LISTED) io.out(`  ... and ${problems.length - LISTED} more (\`metaform status --format json\` lists them all)`);
  }
  const catalog = await readCatalogJournal(catalogJournalPath(resolve(config.root, config.stateDir, 'runs', `${latest.id}.jsonl`)));
  const catalogFailures = catalog.filter((line) => line.type === 'catalog-error' || line.outcome === 'failed');
  if (catalogFailures.length > 0) {
    io.out(`\nCatalog writes that failed in the latest run (${catalogFailures.length}; \`metaform push\` retries them):`);
    for (const line of catalogFailures.slice(0, LISTED))
      io.out(`  ${paint.red('x')} ${line.type === 'catalog-error' ? 'OpenMetadata: the push could not start' : escapeControls(line.id)}: ${escapeControls(line.error ?? 'failed')}`);
    if (catalogFailures.length > LISTED) io.out(`  ... and ${catalogFailures.length - LISTED} more`);
  }
  if (latest.skipped.length > 0) {
    io.out(`\nPending (skipped by the plan, ${latest.skipped.length} change${latest.skipped.length === 1 ? '' : 's'}):`);
    for (const skip of latest.skipped.slice(0, LISTED)) io.out(`  ${paint.yellow('!')} ${skip.id}: ${skip.reason}`);
    if (latest.skipped.length > LISTED) io.out(`  ... and ${latest.skipped.length - LISTED} more`);
  }
  return EXIT.ok;
}
