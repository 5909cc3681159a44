/**
 * `command: apply` on a push to the default branch: find the merged pull request, read the plan
 * hash its plan comment recorded, plan again and apply only when the hashes are equal.
 */
import * as core from '@actions/core';
import { applyPlan, type ApplyReport } from '../core/pipeline.js';
import { changeDigests, serviceHashes } from '../core/plan-hash.js';
import type { Plan } from '../core/plan.js';
import { projectLabel, type RunContext } from './context.js';
import { ActionFailure } from './failure.js';
import { findComment, githubClient, mergedPullRequest, tokenLogin, upsertComment, type Octokit } from './github.js';
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
  const head = `${writeMarker('apply', { project: run.project, target: run.target })}\n### ${icon} metaform apply ${outcome}${label ? ` · ${label}` : ''}\n`;
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

async function comment(octokit: Octokit | undefined, run: RunContext, pull: number | undefined, login: string, outcome: Outcome, lines: string[]): Promise<void> {
  if (!octokit || pull === undefined) return;
  const existing = await findComment(octokit, run.repo, pull, login, (body) => {
    const marker = readMarker('apply', body);
    return marker?.project === run.project && marker.target === run.target;
  });
  await upsertComment(octokit, run.repo, pull, existing, outcomeBody(run, outcome, lines));
}

export async function applyCommand(run: RunContext): Promise<void> {
  const octokit = githubClient(run.token);
  const login = await tokenLogin(octokit);
  const pull = run.sha ? await mergedPullRequest(octokit, run.repo, run.sha) : undefined;
  let reviewed: PlanMarker | undefined;
  if (!pull) {
    if (!run.applyAnyway)
      throw new ActionFailure(
        'no-pull-request',
        `no merged pull request has commit ${run.sha || '(GITHUB_SHA unset)'}, so there is no reviewed plan to compare with`,
        'run apply on the push that merges a pull request whose plan the action commented; to apply a direct push without review, set `apply-anyway: true`',
      );
    core.warning(`no merged pull request for ${run.sha}: applying without a reviewed plan (apply-anyway)`);
  } else {
    const found = await findComment(octokit, run.repo, pull.number, login, (body) => {
      const marker = readMarker('plan', body);
      return marker?.project === run.project && marker.target === run.target;
    });
    reviewed = found ? readMarker('plan', found.body) : undefined;
    core.info(`merged pull request #${pull.number}; reviewed plan hash ${reviewed?.hash ?? '(none)'}`);
  }

  const { project, plan, hash } = await planProject(run, 'plan');
  const label = projectLabel(run);
  if (pull && !reviewed && !run.applyAnyway) {
    const message = `pull request #${pull.number} has no metaform plan comment for this project${run.target === '*' ? '' : ` and services ${run.target}`}, so nothing was reviewed`;
    await comment(octokit, run, pull.number, login, 'skipped', [`Not applied: ${message}.`, '', 'Run the action with `command: plan` on pull requests, or set `apply-anyway: true`.']);
    throw new ActionFailure('no-reviewed-plan', message, 'run `command: plan` on the pull request before merging, with the same working-directory and services');
  }
  if (reviewed && reviewed.hash !== hash) {
    const difference = describeDifference(reviewed, plan);
    const intro = [`The plan changed since #${pull?.number} was reviewed (reviewed \`${reviewed.hash}\`, now \`${hash}\`):`, '', ...difference];
    await writeSummary(run, plan, 'plan', `### metaform apply${label ? ` · ${label}` : ''}: plan changed`, intro);
    if (!run.applyAnyway) {
      await comment(octokit, run, pull?.number, login, 'skipped', [
        'Not applied: **plan-changed**. The sources or the YAML changed between review and merge.',
        '',
        ...intro,
        '',
        'Open a pull request to review the new plan, or re-run with `apply-anyway: true`.',
      ]);
      throw new ActionFailure('plan-changed', `the plan differs from the one reviewed on #${pull?.number}:\n${difference.join('\n')}`, 'review the new plan in a pull request, or set `apply-anyway: true`');
    }
    core.warning(`the plan differs from the reviewed one; applying anyway:\n${difference.join('\n')}`);
  } else await writeSummary(run, plan, 'plan', `### metaform apply${label ? ` · ${label}` : ''}`, reviewed ? [`Same plan as reviewed on #${pull?.number} (\`${hash}\`).`] : []);

  if (plan.operations.length === 0) {
    await comment(octokit, run, pull?.number, login, 'skipped', [`Nothing to apply: ${plan.changes.length === 0 ? 'the sources already match the YAML' : `all ${plan.changes.length} changes are skipped`}.`]);
    core.info('nothing to apply');
    return;
  }
  const report = await applyPlan(project, plan, { onStage: (stage) => core.info(stage) });
  const lines = reportLines(report);
  core.info(lines[0] ?? '');
  if (report.failed > 0) {
    await comment(octokit, run, pull?.number, login, 'failed', lines);
    throw new ActionFailure('apply-failed', `${report.failed} of ${plan.operations.length} operations failed or did not run (journal: ${report.journalPath})`, 'see the errors above; the next plan shows exactly what is left');
  }
  await comment(octokit, run, pull?.number, login, 'succeeded', lines);
}
