import { resolve } from 'node:path';
import { MetaformError } from '../../core/errors.js';
import { readRuns } from '../../core/journal.js';
import type { Project } from '../../core/project.js';
import { commitPulledEdits, describePull, pullCatalogEdits } from '../../openmetadata/pull.js';
import { openMetadataWarnings } from '../../openmetadata/settings.js';
import { escapeControls } from '../../report/values.js';
import { EXIT, load, output, type GlobalOptions, type Output } from '../context.js';

export interface PullCliOptions extends GlobalOptions {
  service?: string[];
  since?: string;
  branch?: string;
  dryRun?: boolean;
}

/** Problems of the `openmetadata:` block (a token written in the file) as warnings on stderr. */
export function warnAboutCatalog(project: Project, io: Output): void {
  for (const warning of openMetadataWarnings(project)) io.err(`${io.errColors.yellow('Warning:')} ${warning}`);
}

/** `--since` as epoch ms; by default the start of the last apply (edits before it were there when it ran), else everything. */
async function sinceOf(project: Project, since: string | undefined): Promise<{ at?: number; label: string }> {
  if (since !== undefined) {
    const at = /^\d{4}-\d{2}-\d{2}/.test(since) ? Date.parse(since) : Number.NaN;
    if (Number.isNaN(at)) throw new MetaformError(`--since ${JSON.stringify(since)} is not an ISO 8601 time`, undefined, 'write it as 2026-01-31 or 2026-01-31T12:00:00Z');
    return { at, label: `since ${new Date(at).toISOString()}` };
  }
  const { runs } = await readRuns(resolve(project.config.root, project.config.stateDir), 1);
  const last = runs[0];
  if (!last) return { label: 'all edits (no apply in the journal yet)' };
  return { at: Date.parse(last.startedAt), label: `since the last apply (${last.startedAt}, run ${last.id})` };
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;

/**
 * People's catalog edits written into the YAML in place. Exit 0 when every edit found was
 * written (or there was none); 2 when an edit was reported and not written (a conflict with an
 * unapplied YAML change, or a value the source cannot hold): a person has to decide.
 */
export async function pullCommand(options: PullCliOptions): Promise<number> {
  const io = output(options);
  if (options.branch !== undefined && options.dryRun) throw new MetaformError('--branch and --dry-run cannot be combined', undefined, 'drop --dry-run to write and commit the edits');
  const project = await load(options);
  warnAboutCatalog(project, io);
  const since = await sinceOf(project, options.since);
  io.err(`Catalog edits by people, ${since.label}.`);
  const result = await pullCatalogEdits(project, {
    ...(options.service ? { services: options.service } : {}),
    ...(since.at !== undefined ? { since: since.at } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
  });
  for (const line of describePull(result)) io.out(escapeControls(line));
  const { edits, conflicts, unsupported, files } = result;
  if (edits.length === 0) io.out('No catalog edits to pull.');
  else if (options.dryRun) io.out(`Dry run: ${plural(edits.length, 'edit')} would be written; no file changed.`);
  else io.out(`Pulled ${plural(edits.length, 'edit')} into ${plural(files.length, 'file')}${files.length > 0 ? `: ${files.join(', ')}` : ''}.`);
  if (conflicts.length + unsupported.length > 0)
    io.err(
      `${io.errColors.yellow('Not written:')} ${plural(conflicts.length, 'conflict')} with unapplied YAML changes, ${plural(unsupported.length, 'edit')} the source cannot hold (listed above with ! and -).`,
    );
  if (options.branch !== undefined) {
    if (files.length === 0) io.out(`Nothing to commit: branch ${options.branch} not created.`);
    else {
      const commit = await commitPulledEdits(project.config.root, options.branch, files);
      io.out(`Committed ${plural(files.length, 'file')} on branch ${commit.branch} (${commit.commit}): ${files.join(', ')}. Open a pull request from it for review.`);
    }
  }
  return conflicts.length + unsupported.length > 0 ? EXIT.changes : EXIT.ok;
}
