/**
 * `command: pull`: catalog edits become one branch and one pull request, updated in place while it
 * is open. The edits come from the OpenMetadata pull (`openMetadataEdits`, registered by default);
 * tests and embedders may register another provider through registerCatalogEdits.
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import * as core from '@actions/core';
import { loadProject, type Project } from '../core/project.js';
import { describePull, pullCatalogEdits } from '../openmetadata/pull.js';
import { openMetadataWarnings } from '../openmetadata/settings.js';
import { escapeControls } from '../report/values.js';
import type { RunContext } from './context.js';
import { ActionFailure } from './failure.js';
import { defaultBranch, githubClient, tokenIdentity } from './github.js';
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

/** Top-level folders of the project a pull never needs: git's, the packages', the run journal. */
function copied(root: string, stateDir: string): (source: string) => boolean {
  const skipped = new Set(['.git', 'node_modules', stateDir.split(/[\\/]/)[0]]);
  return (source) => {
    const path = relative(root, source);
    return path === '' || !skipped.has(path.split(sep)[0] ?? '');
  };
}

/**
 * People's OpenMetadata edits as YAML edits. The pull writes files, and the workspace is the
 * runner's checkout (later steps may use it): it runs on a temporary copy of the project, whose
 * edited files are read back.
 */
export const openMetadataEdits: CatalogEditsProvider = async (project) => {
  if (!project.config.openmetadata)
    throw new ActionFailure(
      'not-available',
      '`command: pull` turns OpenMetadata edits into a pull request, and metaform.yaml configures no openmetadata: server',
      'add openmetadata: { url: ${OPENMETADATA_URL}, token: ${OPENMETADATA_TOKEN} } to metaform.yaml and pass both variables to the step as env',
    );
  for (const warning of openMetadataWarnings(project)) core.warning(warning);
  const root = project.config.root;
  const copy = await mkdtemp(join(tmpdir(), 'metaform-pull-'));
  try {
    await cp(root, copy, { recursive: true, filter: copied(root, project.config.stateDir) });
    const result = await pullCatalogEdits(await loadProject(copy));
    const lines = describePull(result).map((line) => escapeControls(line));
    for (const line of lines) core.info(line);
    if (result.files.length === 0) return undefined;
    const files = new Map<string, string | null>();
    for (const file of result.files) files.set(file.split(sep).join('/'), await readFile(join(copy, file), 'utf8'));
    const people = [...new Set(result.edits.flatMap((edit) => (edit.changedBy ? [edit.changedBy] : [])))];
    const count = result.edits.length;
    const fence = '```';
    return {
      files,
      title: `metaform: ${count} catalog edit${count === 1 ? '' : 's'} from OpenMetadata`,
      body: [
        `Edits made in OpenMetadata${people.length > 0 ? ` by ${people.map((person) => escapeControls(person)).join(', ')}` : ''}, written into the YAML by \`metaform pull\`. Review and merge; the apply on merge changes the sources.`,
        '',
        fence,
        ...lines.map((line) => line.replaceAll(fence, "'''")),
        fence,
      ].join('\n'),
    };
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
};

let registered: CatalogEditsProvider | undefined = openMetadataEdits;

export function registerCatalogEdits(provider: CatalogEditsProvider): void {
  registered = provider;
}

function branchName(run: RunContext): string {
  const suffix = run.project === '.' ? '' : `-${run.project.replace(/[^A-Za-z0-9._-]+/g, '-')}`;
  return `metaform/pull${suffix}${run.target === '*' ? '' : `-${run.target.replace(/[^A-Za-z0-9._-]+/g, '-')}`}${run.label ? `-${run.label.replace(/[^A-Za-z0-9._-]+/g, '-')}` : ''}`;
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
  const octokit = githubClient(run.token);
  // Scheduled events carry no repository: the default branch is asked of GitHub, never assumed.
  const base = await defaultBranch(octokit, run.repo, run.defaultBranch);
  const outcome = await proposeChanges(octokit, run.repo, {
    base,
    branch: branchName(run),
    title: edits.title,
    body: edits.body,
    commitMessage: edits.title,
    files,
  });
  core.setOutput('has-changes', 'true');
  core.setOutput('pull-request', outcome.pullRequest);
  core.info(`catalog edits: pull request #${outcome.pullRequest} ${outcome.state}`);
  const identity = await tokenIdentity(octokit);
  if (identity.login === 'github-actions[bot]')
    core.warning(
      `pull request #${outcome.pullRequest} was written with GITHUB_TOKEN, and what GITHUB_TOKEN does starts no workflow: it gets no plan comment, and its apply fails with no-reviewed-plan. Pass a GitHub App token or a personal token as \`github-token\` (docs/github-action.md, "Tokens").`,
    );
}
