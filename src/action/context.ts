/** What the runner gives the action: inputs (INPUT_*), the event, the repository, the run. */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import * as core from '@actions/core';
import { context } from '@actions/github';
import { ActionFailure } from './failure.js';
import type { Repo } from './github.js';

export type Command = 'plan' | 'apply' | 'drift' | 'pull';
const COMMANDS: readonly Command[] = ['plan', 'apply', 'drift', 'pull'];

export interface RunContext {
  command: Command;
  repo: Repo;
  sha: string;
  eventName: string;
  /** The pull request of a pull_request / pull_request_target event, or the `pull-request` input (workflow_run). */
  pullRequest?: number;
  /** The pull request's head commit this run planned (not GITHUB_SHA, which is a test merge). */
  headSha?: string;
  /** The pull request comes from a fork: GITHUB_TOKEN is read-only and secrets are withheld. */
  fromFork: boolean;
  /** The commits of a push (a merge queue or batch lands several pull requests in one). */
  pushCommits: string[];
  /** The default branch, when the event carries the repository (schedules do not). */
  defaultBranch?: string;
  /** A free-form name telling apart runs of one project (a matrix over environments). */
  label: string;
  /** When the plan is commented: always, only when it has changes (or had), or never. */
  comment: 'always' | 'on-changes' | 'never';
  /** Post a new plan comment each run and minimize the previous ones, instead of editing one. */
  minimizeOutdated: boolean;
  commentOnApply: boolean;
  /** The project folder (holding metaform.yaml). */
  root: string;
  /** The project as written in markers and titles: its folder relative to the workspace. */
  project: string;
  services?: string[];
  /** The services this run covers, as markers record it: `*` for all. */
  target: string;
  token: string;
  applyAnyway: boolean;
  /** Where the plan file goes (for actions/upload-artifact). */
  planDir: string;
  /** A link to this run, where its job summary is. */
  runUrl?: string;
}

function listInput(value: string): string[] {
  return value
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}

function booleanInput(name: string): boolean {
  try {
    return core.getInput(name) !== '' && core.getBooleanInput(name);
  } catch {
    throw new ActionFailure('invalid-input', `${name} must be true or false, not "${core.getInput(name)}"`);
  }
}

const COMMENT_MODES = ['always', 'on-changes', 'never'] as const;

export function readContext(): RunContext {
  const command = core.getInput('command', { required: true }).trim() as Command;
  if (!COMMANDS.includes(command)) throw new ActionFailure('invalid-input', `unknown command "${command}"`, `set \`command\` to one of ${COMMANDS.join(', ')}`);
  const workspace = process.env['GITHUB_WORKSPACE'] || process.cwd();
  const directory = core.getInput('working-directory') || '.';
  const root = isAbsolute(directory) ? directory : resolve(workspace, directory);
  const project = relative(workspace, root).split('\\').join('/') || '.';
  const services = listInput(core.getInput('services'));
  const repository = process.env['GITHUB_REPOSITORY'] ?? '';
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) throw new ActionFailure('invalid-input', 'GITHUB_REPOSITORY is not set', 'run the action inside a GitHub Actions job');
  const applyAnyway = booleanInput('apply-anyway');
  const eventName = process.env['GITHUB_EVENT_NAME'] ?? '';
  // pull_request_target runs with the base's secrets and a write token on the base's code. With the
  // base checked out, the comment would show (and record as reviewed) the base's plan; with the
  // head checked out, a fork's metaform.yaml could send the database secrets to its own host.
  if (eventName === 'pull_request_target' && !booleanInput('allow-pull-request-target'))
    throw new ActionFailure(
      'invalid-input',
      'pull_request_target is refused: it plans the base branch (the default checkout) or, with the head checked out, runs a fork\'s metaform.yaml with your secrets',
      'run `command: plan` on `pull_request` (forks: see the workflow_run pattern in docs/github-action.md); set `allow-pull-request-target: true` only if the workflow checks out trusted code',
    );
  const comment = (core.getInput('comment') || 'always') as RunContext['comment'];
  if (!COMMENT_MODES.includes(comment)) throw new ActionFailure('invalid-input', `comment must be one of ${COMMENT_MODES.join(', ')}, not "${comment}"`);
  const requested = core.getInput('pull-request').trim();
  if (requested && !/^[1-9]\d*$/.test(requested)) throw new ActionFailure('invalid-input', `pull-request must be a pull request number, not "${requested}"`);
  const pull = requested ? { number: Number(requested) } : context.payload.pull_request;
  const head = context.payload.pull_request?.['head'] as { sha?: string; repo?: { full_name?: string } | null } | undefined;
  const workflowRun = context.payload['workflow_run'] as { head_sha?: string } | undefined;
  const headSha = head?.sha ?? workflowRun?.head_sha;
  const commits = (context.payload['commits'] as { id?: string }[] | undefined) ?? [];
  const repositoryPayload = context.payload.repository as { default_branch?: string } | undefined;
  const serverUrl = process.env['GITHUB_SERVER_URL'] || 'https://github.com';
  const runId = process.env['GITHUB_RUN_ID'];
  return {
    command,
    repo: { owner, repo },
    sha: process.env['GITHUB_SHA'] ?? '',
    eventName,
    ...(pull && typeof pull.number === 'number' ? { pullRequest: pull.number } : {}),
    ...(headSha ? { headSha } : {}),
    // A deleted fork leaves head.repo null; it is still not this repository.
    fromFork: !requested && head !== undefined && head.repo?.full_name !== repository,
    pushCommits: commits.flatMap((commit) => (typeof commit.id === 'string' ? [commit.id] : [])),
    ...(repositoryPayload?.default_branch ? { defaultBranch: repositoryPayload.default_branch } : {}),
    label: core.getInput('label').trim(),
    comment,
    minimizeOutdated: booleanInput('minimize-outdated'),
    commentOnApply: core.getInput('comment-on-apply') === '' || booleanInput('comment-on-apply'),
    root,
    project,
    ...(services.length > 0 ? { services } : {}),
    target: services.length > 0 ? [...services].sort().join(',') : '*',
    token: core.getInput('github-token'),
    applyAnyway,
    planDir: join(process.env['RUNNER_TEMP'] || tmpdir(), 'metaform'),
    ...(runId ? { runUrl: `${serverUrl}/${repository}/actions/runs/${runId}` } : {}),
  };
}

/** "warehouse" or "analytics/ (warehouse)": how the project reads in headings and titles. */
export function projectLabel(run: Pick<RunContext, 'project' | 'target'> & { label?: string }): string {
  const where = run.project === '.' ? '' : `\`${run.project}\``;
  const what = run.target === '*' ? '' : `services ${run.target.split(',').map((service) => `\`${service}\``).join(', ')}`;
  const which = run.label ? `\`${run.label.replaceAll('`', "'")}\`` : '';
  return [which, where, what].filter(Boolean).join(' · ');
}

/** Whether a marker was written for this project, services and label. */
export function sameTarget(run: Pick<RunContext, 'project' | 'target' | 'label'>, marker: { project?: unknown; target?: unknown; label?: unknown } | undefined): boolean {
  return marker !== undefined && marker.project === run.project && marker.target === run.target && (marker.label ?? '') === run.label;
}
