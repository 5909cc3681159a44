/**
 * `command: pull`: catalog edits become one branch and one pull request, updated in place while it
 * is open. Turning catalog edits into YAML edits is the OpenMetadata pull's job; it plugs in here
 * through registerCatalogEdits. Until it does, the command fails with `not-available`.
 */
import { join } from 'node:path';
import * as core from '@actions/core';
import { context } from '@actions/github';
import { loadProject, type Project } from '../core/project.js';
import type { RunContext } from './context.js';
import { ActionFailure } from './failure.js';
import { githubClient } from './github.js';
import { proposeChanges } from './pull-request.js';

export interface CatalogEdits {
  /** Path relative to the project folder -> new content, or null to delete the file. */
  files: ReadonlyMap<string, string | null>;
  /** What the pull request says: which objects were edited in the catalog, and by whom. */
  title: string;
  body: string;
}

/** Reads the catalog and returns the YAML edits it implies; undefined when there are none. */
export type CatalogEditsProvider = (project: Project) => Promise<CatalogEdits | undefined>;

let registered: CatalogEditsProvider | undefined;

export function registerCatalogEdits(provider: CatalogEditsProvider): void {
  registered = provider;
}

function branchName(run: RunContext): string {
  const suffix = run.project === '.' ? '' : `-${run.project.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
  return `metaform/pull${suffix}${run.target === '*' ? '' : `-${run.target.replace(/[^A-Za-z0-9._-]+/g, '-')}`}`;
}

export async function pullCommand(run: RunContext, provider: CatalogEditsProvider | undefined = registered): Promise<void> {
  if (!provider)
    throw new ActionFailure(
      'not-available',
      '`command: pull` (catalog edits as a pull request) needs the OpenMetadata pull, which this version of metaform does not have yet',
      'use plan, apply or drift for now',
    );
  const project = await loadProject(run.root);
  const edits = await provider(project);
  if (!edits || edits.files.size === 0) {
    core.info('no catalog edits');
    core.setOutput('has-changes', 'false');
    return;
  }
  const files = new Map<string, string | null>();
  for (const [path, content] of edits.files) files.set(run.project === '.' ? path : join(run.project, path).split('\\').join('/'), content);
  const repository = context.payload.repository as { default_branch?: string } | undefined;
  const outcome = await proposeChanges(githubClient(run.token), run.repo, {
    base: repository?.default_branch ?? 'main',
    branch: branchName(run),
    title: edits.title,
    body: edits.body,
    commitMessage: edits.title,
    files,
  });
  core.setOutput('has-changes', 'true');
  core.setOutput('pull-request', outcome.pullRequest);
  core.info(`catalog edits: pull request #${outcome.pullRequest} ${outcome.state}`);
}
