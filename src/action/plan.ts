/** `command: plan`: the plan as a sticky pull-request comment, the job summary and a file. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as core from '@actions/core';
import { loadProject, type Project } from '../core/project.js';
import { createPlan } from '../core/pipeline.js';
import { changeDigests, planHash, serviceHashes } from '../core/plan-hash.js';
import type { Plan } from '../core/plan.js';
import type { MissingObject } from '../core/diff.js';
import { projectLabel, sameTarget, type RunContext } from './context.js';
import { call, findComments, githubClient, minimizeComment, tokenIdentity, upsertComment, type FoundComment, type Octokit, type TokenIdentity } from './github.js';
import { readMarker, writeMarker, type PlanMarker } from './marker.js';
import { buildReport, COMMENT_BUDGET, SUMMARY_BUDGET, utf8Bytes, type BuiltReport } from './report.js';

/** Plans with more changes than this keep only their hashes in the marker, not per-change digests. */
const MAX_DIGESTS = 1_000;

export interface PlanResult {
  project: Project;
  plan: Plan;
  hash: string;
  path: string;
}

/** `metaform` for the whole project at the root; the folder, services and label otherwise. */
function slug(run: RunContext): string {
  const parts = [run.project === '.' ? '' : run.project, run.target === '*' ? '' : run.target, run.label].filter(Boolean);
  return ['metaform', ...parts].join('-').replace(/[^A-Za-z0-9._-]+/g, '_');
}

export function planMarker(run: RunContext, plan: Plan, hash: string, truncated: boolean): PlanMarker {
  return {
    project: run.project,
    target: run.target,
    ...(run.label ? { label: run.label } : {}),
    ...(run.headSha ? { head: run.headSha } : {}),
    hash,
    truncated,
    summary: plan.summary,
    services: Object.fromEntries(serviceHashes(plan)),
    ...(plan.changes.length <= MAX_DIGESTS ? { digests: [...changeDigests(plan).values()] } : {}),
  };
}

/** Plans against the live sources and sets the outputs every command shares. */
export async function planProject(run: RunContext, kind: 'plan' | 'drift'): Promise<PlanResult & { missing: MissingObject[] }> {
  const project = await loadProject(run.root);
  const { plan, missing } = await createPlan(project, { ...(run.services ? { services: run.services } : {}), allowMissing: kind === 'drift' });
  const hash = planHash(plan);
  await mkdir(run.planDir, { recursive: true });
  const path = join(run.planDir, `${slug(run)}-${kind}.json`);
  await writeFile(path, `${JSON.stringify(plan, null, 2)}\n`);
  core.setOutput('has-changes', plan.changes.length > 0 || missing.length > 0 ? 'true' : 'false');
  core.setOutput('add-count', plan.summary.add);
  core.setOutput('change-count', plan.summary.update);
  core.setOutput('remove-count', plan.summary.remove);
  core.setOutput('skipped-count', plan.summary.skipped);
  core.setOutput('plan-path', path);
  core.setOutput('plan-hash', hash);
  core.setOutput('artifact-name', `${slug(run)}-${kind}`);
  core.info(`${plan.changes.length} changes; plan hash ${hash}; plan saved to ${path}`);
  return { project, plan, hash, path, missing };
}

/** The full plan (to 1 MiB) in the job summary. */
export async function writeSummary(run: RunContext, plan: Plan, kind: 'plan' | 'drift', head: string, intro: string[] = []): Promise<void> {
  if (!process.env['GITHUB_STEP_SUMMARY']) return;
  const report = buildReport(plan, { kind, head, intro, budget: SUMMARY_BUDGET, measure: utf8Bytes, fullPlanAt: 'the plan file (`plan-path` output), for actions/upload-artifact' });
  await core.summary.addRaw(report.body).write();
}

function planHeading(run: RunContext, hash: string): { heading: string; intro: string[] } {
  const label = projectLabel(run);
  return { heading: `### metaform plan${label ? ` · ${label}` : ''}`, intro: [`Plan hash \`${hash}\`: on merge, \`apply\` runs only a plan with this hash.`] };
}

/** The sticky comment: marker (with the hash) first, then the report cut to fit. */
export function planComment(run: RunContext, plan: Plan, hash: string): BuiltReport {
  const { heading, intro } = planHeading(run, hash);
  const fullPlanAt = `${run.runUrl ? `the [job summary](${run.runUrl})` : 'the job summary'} and the plan file (\`plan-path\` output, for actions/upload-artifact)`;
  // The marker's size depends on `truncated`; build with the marker as it will be.
  const marker = planMarker(run, plan, hash, false);
  const build = (truncated: boolean) =>
    buildReport(plan, { kind: 'plan', head: `${writeMarker('plan', { ...marker, truncated })}\n${heading}`, intro, budget: COMMENT_BUDGET, fullPlanAt });
  const report = build(false);
  return report.truncated ? build(true) : report;
}

/** Longest error text put in a comment. */
const ERROR_PREVIEW = 20_000;

/** The comment that replaces the plan when planning failed: the old plan must not look current. */
export function failedPlanComment(run: RunContext, error: unknown): string {
  const marker = writeMarker('plan', { project: run.project, target: run.target, ...(run.label ? { label: run.label } : {}), hash: 'failed', truncated: false, summary: { add: 0, update: 0, remove: 0, skipped: 0 }, services: {} });
  const label = projectLabel(run);
  let text = error instanceof Error ? error.toString().replace(/^(MetaformErrors?|Error): /, '') : String(error);
  if (text.length > ERROR_PREVIEW) text = `${text.slice(0, ERROR_PREVIEW)}\n… (${text.length - ERROR_PREVIEW} more characters in the job log)`;
  // Indented, not fenced: no text can close an indented code block.
  const indented = text.split('\n').map((line) => `    ${line}`).join('\n');
  return `${marker}\n### metaform plan${label ? ` · ${label}` : ''}\n\n❌ The plan failed${run.runUrl ? ` ([run](${run.runUrl}))` : ''}:\n\n${indented}\n`;
}

const FORK_NOTICE =
  'this pull request comes from a fork: GitHub gives its workflows a read-only token and no secrets, so the plan is in the job summary only. To comment it, use the workflow_run pattern in docs/github-action.md';

/**
 * Whether this run may write the comment: a run for an older head commit (a push came while it
 * planned) leaves the comment to the newer run, which GitHub started for the new head.
 */
async function newerHead(octokit: Octokit, run: RunContext, pull: number): Promise<string | undefined> {
  if (!run.headSha) return undefined;
  const current = await call(`read pull request #${pull}`, 'pull-requests: read', () => octokit.rest.pulls.get({ ...run.repo, pull_number: pull }));
  return current.data.head.sha !== run.headSha ? current.data.head.sha : undefined;
}

async function ourPlanComments(octokit: Octokit, run: RunContext, pull: number, identity: TokenIdentity): Promise<FoundComment[]> {
  return findComments(octokit, run.repo, pull, identity, (body) => sameTarget(run, readMarker('plan', body)));
}

export async function planCommand(run: RunContext): Promise<void> {
  const commenting = run.pullRequest !== undefined && run.comment !== 'never' && !run.fromFork;
  const octokit = commenting ? githubClient(run.token) : undefined;
  let planned: Awaited<ReturnType<typeof planProject>>;
  try {
    planned = await planProject(run, 'plan');
  } catch (error) {
    if (run.fromFork) core.notice(`${FORK_NOTICE}. Planning failed; secrets are not passed to workflows of fork pull requests.`);
    if (octokit && run.pullRequest !== undefined) {
      const pull = run.pullRequest;
      try {
        const identity = await tokenIdentity(octokit);
        await upsertComment(octokit, run.repo, pull, (await ourPlanComments(octokit, run, pull, identity)).at(-1), failedPlanComment(run, error));
      } catch (failure) {
        // The planning error is the one to report; this one only goes to the log.
        core.warning(`could not replace the plan comment: ${failure instanceof Error ? failure.message : String(failure)}`);
      }
    }
    throw error;
  }
  const { plan, hash } = planned;
  const { heading, intro } = planHeading(run, hash);
  await writeSummary(run, plan, 'plan', heading, intro);
  if (run.pullRequest === undefined) {
    core.info(`not a pull request event (${run.eventName}): no comment`);
    return;
  }
  if (run.fromFork) {
    core.notice(FORK_NOTICE);
    return;
  }
  if (!octokit) {
    core.info('comment: never; the plan is in the job summary');
    return;
  }
  const pull = run.pullRequest;
  const newer = await newerHead(octokit, run, pull);
  if (newer) {
    core.notice(`#${pull} has a newer head commit (${newer.slice(0, 12)}) than the one planned (${run.headSha?.slice(0, 12)}): the comment is left to the run for the newer commit`);
    return;
  }
  const identity = await tokenIdentity(octokit);
  const ours = await ourPlanComments(octokit, run, pull, identity);
  const existing = ours.at(-1);
  if (run.comment === 'on-changes' && plan.changes.length === 0 && !existing) {
    core.info('no changes: no comment (comment: on-changes)');
    return;
  }
  const report = planComment(run, plan, hash);
  let written;
  if (run.minimizeOutdated && existing && existing.body !== report.body) {
    written = await upsertComment(octokit, run.repo, pull, undefined, report.body);
    for (const old of ours) await minimizeComment(octokit, old);
  } else written = await upsertComment(octokit, run.repo, pull, existing, report.body);
  core.setOutput('comment-id', written.id);
  core.info(`${written.written} comment ${written.id} on #${pull}${report.truncated ? ` (truncated to ${report.shownChanges} changes)` : ''}`);
}
