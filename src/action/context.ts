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
  /** The pull request of a pull_request / pull_request_target event. */
  pullRequest?: number;
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
  let applyAnyway: boolean;
  try {
    applyAnyway = core.getInput('apply-anyway') !== '' && core.getBooleanInput('apply-anyway');
  } catch {
    throw new ActionFailure('invalid-input', `apply-anyway must be true or false, not "${core.getInput('apply-anyway')}"`);
  }
  const pull = context.payload.pull_request;
  const serverUrl = process.env['GITHUB_SERVER_URL'] || 'https://github.com';
  const runId = process.env['GITHUB_RUN_ID'];
  return {
    command,
    repo: { owner, repo },
    sha: process.env['GITHUB_SHA'] ?? '',
    eventName: process.env['GITHUB_EVENT_NAME'] ?? '',
    ...(pull && typeof pull.number === 'number' ? { pullRequest: pull.number } : {}),
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
export function projectLabel(run: Pick<RunContext, 'project' | 'target'>): string {
  const where = run.project === '.' ? '' : `\`${run.project}\``;
  const what = run.target === '*' ? '' : `services ${run.target.split(',').map((service) => `\`${service}\``).join(', ')}`;
  return [where, what].filter(Boolean).join(' · ');
}
