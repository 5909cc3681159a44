/**
 * `command: apply` on a push to the default branch: find the merged pull request, read the plan
 * hash its plan comment recorded, plan again and apply only when the hashes are equal.
 */
import * as core from '@actions/core';
import { applyPlan, type ApplyReport } from '../core/pipeline.js';
import { changeDigests, serviceHashes } from '../core/plan-hash.js';
import type { Plan } from '../core/plan.js';
import { projectLabel, sameTarget, type RunContext } from './context.js';
import { ActionFailure } from './failure.js';
import {
  defaultBranch,
  earlierMergedPullRequests,
  findComment,
  githubClient,
  mergedPullRequests,
  tokenIdentity,
  upsertComment,
  type MergedPull,
  type Octokit,
  type TokenIdentity,
} from './github.js';
import { readMarker, writeMarker, type PlanMarker } from './marker.js';
import { planProject, writeSummary } from './plan.js';
import { COMMENT_BUDGET } from './report.js';

/** Lines naming what differs between the reviewed plan and this one. */
export function describeDifference(reviewed: PlanMarker, plan: Plan, limit = 20): string[] {
  const lines: string[] = [];
  if (reviewed.hash === 'failed') return ['- the last plan on the pull request failed, so no plan was reviewed'];
  const s = (summary: PlanMarker['summary']) => `${summary.add} to add, ${summary.update} to change, ${summary.remove} to remove, ${summary.skipped} skipped`;
  lines.push(`- reviewed: ${s(reviewed.summary)}; now: ${s(plan.summary)}`);
  const now = serviceHashes(plan);
  for (const service of [...new Set([...Object.keys(reviewed.services), ...now.keys()])].sort()) {
    const before = reviewed.services[service];
    const after = now.get(service);
    if (before === after) continue;
    lines.push(`- service \`${service}\`: ${before === undefined ? 'had no changes when reviewed' : after === undefined ? 'has no changes any more' : 'its changes or statements differ'}`);
  }
  if (reviewed.digests) {
    const known = new Set(reviewed.digests);
    const digests = changeDigests(plan);
    const different: string[] = [];
    let matched = 0;
    for (const change of plan.changes) {
      const digest = digests.get(`${change.service}\u0000${change.id}`);
      if (digest !== undefined && known.has(digest)) matched++;
      else different.push(`\`${change.address}\` ${change.property === 'tag' ? `tag ${change.key ?? ''}` : change.property} (${change.action})`);
    }
    for (const item of different.slice(0, limit)) lines.push(`- not as reviewed: ${item}`);
    if (different.length > limit) lines.push(`- and ${different.length - limit} more changes not as reviewed`);
    const gone = reviewed.digests.length - matched;
    if (gone > 0) lines.push(`- ${gone} reviewed change${gone === 1 ? ' is' : 's are'} no longer planned as reviewed`);
  }
  return lines;
}

type Outcome = 'succeeded' | 'failed' | 'skipped';

function outcomeBody(run: RunContext, outcome: Outcome, lines: string[]): string {
  const icon = { succeeded: '✅', failed: '❌', skipped: '⏭️' }[outcome];
  const label = projectLabel(run);
  const head = `${writeMarker('apply', { project: run.project, target: run.target, ...(run.label ? { label: run.label } : {}), outcome })}\n### ${icon} metaform apply ${outcome}${label ? ` · ${label}` : ''}\n`;
  const parts = [head, ''];
  let size = head.length + 200;
  for (const line of lines) {
    if (size + line.length + 1 > COMMENT_BUDGET) {
      parts.push('… (cut to fit a comment; the job log and summary have the rest)');
      break;
    }
    parts.push(line);
    size += line.length + 1;
  }
  if (run.runUrl) parts.push('', `[The run](${run.runUrl}) (commit ${run.sha.slice(0, 12)})`);
  return `${parts.join('\n')}\n`;
}

function reportLines(report: ApplyReport): string[] {
  const { summary } = report.run;
  const lines = [`**${summary.succeeded} succeeded, ${summary.failed} failed, ${summary.notRun} not run, ${summary.skipped} skipped** (run \`${report.run.id}\`)`];
  const failed = report.run.operations.filter((operation) => operation.outcome !== 'succeeded');
  if (failed.length > 0) {
    lines.push('', '| Outcome | Object | Error |', '|---|---|---|');
    for (const operation of failed.slice(0, 50)) {
      const address = operation.changes.map((change) => change.address).join(', ');
      const error = (operation.error ?? '').replace(/\s+/g, ' ').replaceAll('|', '\\|').replaceAll('<', '&lt;').slice(0, 300);
      lines.push(`| ${operation.outcome} | \`${address.replaceAll('`', "'")}\` | ${error} |`);
    }
    if (failed.length > 50) lines.push('', `and ${failed.length - 50} more; the next plan shows exactly what is left.`);
  }
  return lines;
}

interface Reviewed {
  pull: MergedPull;
  marker: PlanMarker;
}

/** How many earlier merged pull requests an apply looks back through for reviewed plans not yet applied. */
const LOOK_BACK = 20;

async function comment(octokit: Octokit, run: RunContext, pulls: readonly MergedPull[], identity: TokenIdentity, outcome: Outcome, lines: string[]): Promise<void> {
  if (!run.commentOnApply) return;
  for (const pull of pulls) {
    const existing = await findComment(octokit, run.repo, pull.number, identity, (body) => sameTarget(run, readMarker('apply', body)));
    await upsertComment(octokit, run.repo, pull.number, existing, outcomeBody(run, outcome, lines));
  }
}

async function reviewedPlan(octokit: Octokit, run: RunContext, pull: MergedPull, identity: TokenIdentity): Promise<PlanMarker | undefined> {
  const found = await findComment(octokit, run.repo, pull.number, identity, (body) => sameTarget(run, readMarker('plan', body)));
  return found ? readMarker('plan', found.body) : undefined;
}

/**
 * Whether every change of the plan was reviewed: its digest (the change and its statements) is in
 * the reviewed plan of one of these pull requests. Plans too big to list digests match only whole.
 */
function coveredBy(plan: Plan, reviewed: readonly Reviewed[]): boolean {
  if (reviewed.length === 0 || reviewed.some((each) => each.marker.hash !== 'failed' && !each.marker.digests)) return false;
  const known = new Set(reviewed.flatMap((each) => each.marker.digests ?? []));
  for (const digest of changeDigests(plan).values()) if (!known.has(digest)) return false;
  return true;
}

/**
 * Earlier merged pull requests whose apply never ran for this project (a superseded queued run):
 * newest first, until one whose apply outcome is commented. Their reviewed plans count too.
 */
async function pendingEarlier(octokit: Octokit, run: RunContext, first: MergedPull, identity: TokenIdentity): Promise<Reviewed[]> {
  if (!first.mergedAt) return [];
  const base = await defaultBranch(octokit, run.repo, run.defaultBranch);
  const pending: Reviewed[] = [];
  for (const pull of (await earlierMergedPullRequests(octokit, run.repo, base, first.mergedAt)).slice(0, LOOK_BACK)) {
    const applied = await findComment(octokit, run.repo, pull.number, identity, (body) => sameTarget(run, readMarker('apply', body)));
    if (applied) break;
    const marker = await reviewedPlan(octokit, run, pull, identity);
    if (marker) pending.push({ pull, marker });
  }
  return pending;
}

function noReviewedPlan(run: RunContext, pulls: readonly MergedPull[], identity: TokenIdentity): { message: string; fix: string } {
  const names = pulls.map((pull) => `#${pull.number}`).join(', ');
  const byActions = pulls.filter((pull) => pull.author === 'github-actions[bot]');
  const message = `pull request${pulls.length === 1 ? '' : 's'} ${names} ha${pulls.length === 1 ? 's' : 've'} no metaform plan comment by ${identity.login ?? 'a bot'} for this project${run.target === '*' ? '' : ` and services ${run.target}`}${run.label ? ` and label ${run.label}` : ''}, so nothing was reviewed`;
  if (byActions.length > 0)
    return {
      message: `${message}; ${byActions.map((pull) => `#${pull.number}`).join(', ')} was opened with GITHUB_TOKEN, and pull requests opened with GITHUB_TOKEN start no workflow`,
      fix: 'give `command: pull` a GitHub App token or a personal token as `github-token`, so its pull requests get a plan; for this one, re-run with `apply-anyway: true` after checking the plan in the job summary',
    };
  return { message, fix: 'run `command: plan` on the pull request before merging, with the same working-directory, services, label and github-token (only comments by the same identity count)' };
}

export async function applyCommand(run: RunContext): Promise<void> {
  const octokit = githubClient(run.token);
  const identity = await tokenIdentity(octokit);
  const pulls = run.sha ? await mergedPullRequests(octokit, run.repo, run.sha, run.pushCommits) : [];
  const reviewed: Reviewed[] = [];
  if (pulls.length === 0) {
    if (!run.applyAnyway)
      throw new ActionFailure(
        'no-pull-request',
        `no merged pull request has commit ${run.sha || '(GITHUB_SHA unset)'}, so there is no reviewed plan to compare with`,
        'run apply on the push that merges a pull request whose plan the action commented; to apply a direct push without review, set `apply-anyway: true`',
      );
    core.warning(`no merged pull request for ${run.sha}: applying without a reviewed plan (apply-anyway)`);
  } else
    for (const pull of pulls) {
      const marker = await reviewedPlan(octokit, run, pull, identity);
      core.info(`merged pull request #${pull.number}; reviewed plan hash ${marker?.hash ?? '(none)'}`);
      if (marker) reviewed.push({ pull, marker });
    }

  const { project, plan, hash } = await planProject(run, 'plan');
  const label = projectLabel(run);
  const heading = `### metaform apply${label ? ` · ${label}` : ''}`;
  if (pulls.length > 0 && reviewed.length === 0 && !run.applyAnyway) {
    const { message, fix } = noReviewedPlan(run, pulls, identity);
    await comment(octokit, run, pulls, identity, 'skipped', [`Not applied: ${message}.`, '', 'Run the action with `command: plan` on pull requests, or set `apply-anyway: true`.']);
    throw new ActionFailure('no-reviewed-plan', message, fix);
  }
  const involved = [...pulls];
  let matched = plan.operations.length === 0 || reviewed.some((each) => each.marker.hash === hash) || coveredBy(plan, reviewed);
  if (!matched && pulls[0]) {
    // A queued apply that GitHub cancelled leaves its pull request's changes to this one.
    const earlier = await pendingEarlier(octokit, run, pulls[0], identity);
    if (earlier.length > 0 && coveredBy(plan, [...reviewed, ...earlier])) {
      matched = true;
      for (const each of earlier) involved.push(each.pull);
      reviewed.push(...earlier);
      core.info(`the plan also holds the reviewed changes of ${earlier.map((each) => `#${each.pull.number}`).join(', ')}, whose apply did not run`);
    }
  }
  const names = reviewed.map((each) => `#${each.pull.number}`).join(', ');
  if (reviewed.length > 0 && !matched) {
    const last = reviewed[reviewed.length - 1] as Reviewed;
    const difference = describeDifference(last.marker, plan);
    if (reviewed.length > 1) difference.unshift(`- compared with the plans reviewed on ${names}: some changes are in none of them`);
    if (reviewed.some((each) => !each.marker.digests && each.marker.hash !== 'failed'))
      difference.push(`- a reviewed plan has more than 1,000 changes, so it is matched only as a whole (its hash), not change by change`);
    const intro = [`The plan changed since ${names} ${reviewed.length === 1 ? 'was' : 'were'} reviewed (reviewed \`${last.marker.hash}\`, now \`${hash}\`):`, '', ...difference];
    await writeSummary(run, plan, 'plan', `${heading}: plan changed`, intro);
    if (!run.applyAnyway) {
      await comment(octokit, run, pulls, identity, 'skipped', [
        'Not applied: **plan-changed**. The sources or the YAML changed between review and merge.',
        '',
        ...intro,
        '',
        'Open a pull request to review the new plan, or re-run with `apply-anyway: true`.',
      ]);
      throw new ActionFailure('plan-changed', `the plan differs from the one reviewed on ${names}:\n${difference.join('\n')}`, 'review the new plan in a pull request, or set `apply-anyway: true`');
    }
    core.warning(`the plan differs from the reviewed one; applying anyway:\n${difference.join('\n')}`);
  } else
    await writeSummary(run, plan, 'plan', heading, reviewed.length > 0 ? [reviewed.some((each) => each.marker.hash === hash) ? `Same plan as reviewed on ${names} (\`${hash}\`).` : `Every change was reviewed on ${names}.`] : []);

  if (plan.operations.length === 0) {
    // A re-run after success, or another run applied it: what was reviewed already holds.
    const why = plan.changes.length === 0 ? (reviewed.length > 0 ? 'the reviewed changes already hold (the sources match the YAML)' : 'the sources already match the YAML') : `all ${plan.changes.length} changes are skipped`;
    await comment(octokit, run, involved, identity, plan.changes.length === 0 && reviewed.length > 0 ? 'succeeded' : 'skipped', [`Nothing to apply: ${why}.`]);
    core.info(`nothing to apply: ${why}`);
    return;
  }
  if (reviewed.length > 0 && !reviewed.some((each) => each.marker.hash === hash)) core.info(`applying the part of the reviewed plan that does not hold yet (${plan.changes.length} changes, each reviewed on ${names})`);
  const report = await applyPlan(project, plan, { onStage: (stage) => core.info(stage) });
  const lines = reportLines(report);
  core.info(lines[0] ?? '');
  if (report.failed > 0) {
    await comment(octokit, run, involved, identity, 'failed', lines);
    throw new ActionFailure('apply-failed', `${report.failed} of ${plan.operations.length} operations failed or did not run (journal: ${report.journalPath})`, 'see the errors above; re-run the job to apply what is left of the reviewed plan');
  }
  await comment(octokit, run, involved, identity, 'succeeded', lines);
}
