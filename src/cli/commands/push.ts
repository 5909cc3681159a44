import { closeSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ApplyReport } from '../../core/pipeline.js';
import type { Plan } from '../../core/plan.js';
import type { Project } from '../../core/project.js';
import { connectCatalog } from '../../openmetadata/settings.js';
import { appliedChanges, pendingCatalogChanges, pushApplied, type CatalogWriteResult } from '../../openmetadata/push.js';
import { escapeControls } from '../../report/values.js';
import { EXIT, load, output, type GlobalOptions, type Output } from '../context.js';
import { warnAboutCatalog } from './pull.js';

export interface PushCliOptions extends GlobalOptions {
  service?: string[];
}

/** One line of a run's catalog journal: a write's result, or a push that could not start. */
export type CatalogJournalLine = ({ type: 'catalog-write' } & CatalogWriteResult) | { type: 'catalog-error'; error: string };

/**
 * The catalog writes of an apply, next to its run journal (`<run id>.catalog.jsonl`): the run
 * journal is closed by then. Lines are written as results arrive, so a killed push keeps those done.
 */
export class CatalogJournal {
  private readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }
  static besideRun(journalPath: string): CatalogJournal {
    return new CatalogJournal(catalogJournalPath(journalPath));
  }
  write(line: CatalogJournalLine): void {
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }
  close(): void {
    closeSync(this.fd);
  }
}

export function catalogJournalPath(journalPath: string): string {
  return journalPath.replace(/(\.jsonl?)?$/, '.catalog.jsonl');
}

/** A run's catalog journal lines; none when the run pushed nothing. Unreadable lines (a killed write) are skipped. */
export async function readCatalogJournal(path: string): Promise<CatalogJournalLine[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const lines: CatalogJournalLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      lines.push(JSON.parse(line) as CatalogJournalLine);
    } catch {
      // cut short by a kill
    }
  }
  return lines;
}

export function printFailedWrite(result: CatalogWriteResult, io: Output): void {
  io.err(`${io.errColors.red('failed')} ${escapeControls(result.id)}: ${escapeControls(result.error ?? 'failed')}`);
}

export function catalogSummary(results: readonly CatalogWriteResult[]): { line: string; failed: number } {
  const failed = results.filter((result) => result.outcome === 'failed').length;
  const writes = results.length;
  return { failed, line: `Catalog: ${writes} ${writes === 1 ? 'entity' : 'entities'} written: ${writes - failed} succeeded, ${failed} failed.` };
}

/** Everything the sources have and the catalog lacks, per service; exit 1 when a write failed. */
export async function pushCommand(options: PushCliOptions): Promise<number> {
  const io = output(options);
  const project = await load(options);
  warnAboutCatalog(project, io);
  const client = await connectCatalog(project);
  const results: CatalogWriteResult[] = [];
  for (const name of servicesToPush(project, options.service)) {
    const pending = await pendingCatalogChanges(project, name, { client });
    const written = await pushApplied(project, pending, { client, onResult: (result) => (result.outcome === 'failed' ? printFailedWrite(result, io) : undefined) });
    for (const result of written) results.push(result);
  }
  if (results.length === 0) {
    io.out('The catalog already shows what the sources have: nothing to push.');
    return EXIT.ok;
  }
  const summary = catalogSummary(results);
  io.out(summary.line);
  return summary.failed > 0 ? EXIT.error : EXIT.ok;
}

/** The services asked for, else every service the YAML names (one without YAML has nothing to push). */
function servicesToPush(project: Project, asked: string[] | undefined): string[] {
  if (asked) return asked;
  return [...project.config.services.keys()].filter((name) => (project.desired.get(name)?.size ?? 0) > 0);
}

/**
 * After an apply with openmetadata.push: the changes its succeeded operations made, written to
 * the catalog, each result journaled beside the run. True when a catalog write failed.
 */
export async function pushAfterApply(project: Project, plan: Plan, report: ApplyReport, io: Output): Promise<boolean> {
  const changes = appliedChanges(plan.changes, report.run.operations);
  if (changes.length === 0) return false;
  warnAboutCatalog(project, io);
  const journal = CatalogJournal.besideRun(report.journalPath);
  try {
    const results = await pushApplied(project, changes, {
      onResult: (result) => {
        journal.write({ type: 'catalog-write', ...result });
        if (result.outcome === 'failed') printFailedWrite(result, io);
      },
    });
    const summary = catalogSummary(results);
    io.out(summary.line);
    if (summary.failed > 0) io.err('`metaform push` retries the failed catalog writes; `metaform status` lists them.');
    return summary.failed > 0;
  } catch (error) {
    // The catalog could not be reached or read: no write was made. The sources are changed all the same.
    const message = error instanceof Error ? error.message : String(error);
    journal.write({ type: 'catalog-error', error: message });
    io.err(`${io.errColors.red('Catalog push failed:')} ${escapeControls(message)}; run \`metaform push\` once it is fixed.`);
    return true;
  } finally {
    journal.close();
  }
}
