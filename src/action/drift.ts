/**
 * `command: drift` on a schedule: one labelled issue per project and service, created when drift
 * appears, updated while it lasts, closed with a comment when it clears, reopened when it returns.
 */
import * as core from '@actions/core';
import { parseAddress } from '../core/model.js';
import { summarize, type Plan } from '../core/plan.js';
import type { MissingObject } from '../core/diff.js';
import type { RunContext } from './context.js';
import { call, githubClient, type Octokit } from './github.js';
import { readMarker, writeMarker } from './marker.js';
import { planProject, writeSummary } from './plan.js';
import { buildReport, COMMENT_BUDGET } from './report.js';

export const DRIFT_LABEL = 'metaform-drift';

interface DriftIssue {
  number: number;
  state: string;
  body: string;
}

function servicePlan(plan: Plan, service: string): Plan {
  const changes = plan.changes.filter((change) => change.service === service);
  return { ...plan, changes, operations: plan.operations.filter((operation) => operation.service === service), warnings: [], summary: summarize(changes) };
}

function title(run: RunContext, service: string): string {
  return `metaform drift: ${service}${run.project === '.' ? '' : ` (${run.project})`}${run.label ? ` [${run.label}]` : ''}`;
}

/** Every issue of ours with this marker, open ones first, newest first. */
async function driftIssues(octokit: Octokit, run: RunContext): Promise<Map<string, DriftIssue>> {
  const issues = await call('list the drift issues', 'issues: read', () =>
    octokit.paginate(octokit.rest.issues.listForRepo, { ...run.repo, state: 'all', labels: DRIFT_LABEL, per_page: 100 }),
  );
  const byService = new Map<string, DriftIssue>();
  for (const issue of issues) {
    if (issue.pull_request) continue;
    const marker = readMarker('drift', issue.body ?? '');
    if (!marker || marker.project !== run.project || (marker.label ?? '') !== run.label) continue;
    const known = byService.get(marker.service);
    if (!known || (known.state !== 'open' && issue.state === 'open')) byService.set(marker.service, { number: issue.number, state: issue.state, body: issue.body ?? '' });
  }
  return byService;
}

function issueBody(run: RunContext, service: string, plan: Plan, missing: MissingObject[]): string {
  const lines = [`Found by the scheduled \`metaform drift\`${run.runUrl ? ` in [this run](${run.runUrl})` : ''} at commit \`${run.sha.slice(0, 12)}\`. Apply the YAML (merge a pull request, or run apply), or change the YAML to match the sources.`];
  if (missing.length > 0) {
    lines.push('', `${missing.length} object${missing.length === 1 ? ' named in YAML does' : 's named in YAML do'} not exist at the source:`);
    for (const object of missing.slice(0, 50)) lines.push(`- ${object.level} \`${object.address}\` (${object.at.file}:${object.at.line})`);
    if (missing.length > 50) lines.push(`- and ${missing.length - 50} more`);
  }
  const head = `${writeMarker('drift', { project: run.project, service, ...(run.label ? { label: run.label } : {}) })}\n### metaform drift · \`${service}\``;
  return buildReport(plan, { kind: 'drift', head, intro: lines, budget: COMMENT_BUDGET, fullPlanAt: `the job summary and the plan file of ${run.runUrl ? `[the run](${run.runUrl})` : 'the run'}` }).body;
}

export async function driftCommand(run: RunContext): Promise<void> {
  const { project, plan, missing } = await planProject(run, 'drift');
  await writeSummary(run, plan, 'drift', `### metaform drift${run.project === '.' ? '' : ` · \`${run.project}\``}`);
  const octokit = githubClient(run.token);
  const issues = await driftIssues(octokit, run);
  const services = run.services ?? [...project.config.services.keys()];
  const drifted: string[] = [];
  for (const service of services) {
    const own = servicePlan(plan, service);
    const gone = missing.filter((object) => parseAddress(object.address)[0] === service);
    const issue = issues.get(service);
    if (own.changes.length > 0 || gone.length > 0) {
      drifted.push(service);
      const body = issueBody(run, service, own, gone);
      if (!issue) {
        const created = await call(`open a drift issue for ${service}`, 'issues: write', () =>
          octokit.rest.issues.create({ ...run.repo, title: title(run, service), body, labels: [DRIFT_LABEL] }),
        );
        core.info(`${service}: drift; opened issue #${created.data.number}`);
      } else if (issue.state === 'open') {
        if (issue.body !== body)
          await call(`update drift issue #${issue.number}`, 'issues: write', () => octokit.rest.issues.update({ ...run.repo, issue_number: issue.number, body }));
        core.info(`${service}: drift continues; issue #${issue.number} updated`);
      } else {
        await call(`reopen drift issue #${issue.number}`, 'issues: write', () => octokit.rest.issues.update({ ...run.repo, issue_number: issue.number, state: 'open', body }));
        await call(`comment on drift issue #${issue.number}`, 'issues: write', () =>
          octokit.rest.issues.createComment({ ...run.repo, issue_number: issue.number, body: `Drift is back at commit \`${run.sha.slice(0, 12)}\`: ${own.changes.length} change${own.changes.length === 1 ? '' : 's'}, ${gone.length} missing. Reopened.` }),
        );
        core.info(`${service}: drift returned; issue #${issue.number} reopened`);
      }
    } else if (issue?.state === 'open') {
      await call(`comment on drift issue #${issue.number}`, 'issues: write', () =>
        octokit.rest.issues.createComment({ ...run.repo, issue_number: issue.number, body: `No drift at commit \`${run.sha.slice(0, 12)}\`${run.runUrl ? ` ([run](${run.runUrl}))` : ''}: the sources match the YAML. Closing.` }),
      );
      await call(`close drift issue #${issue.number}`, 'issues: write', () => octokit.rest.issues.update({ ...run.repo, issue_number: issue.number, state: 'closed', state_reason: 'completed' }));
      core.info(`${service}: drift cleared; issue #${issue.number} closed`);
    } else core.info(`${service}: no drift`);
  }
  core.setOutput('drifted-services', drifted.join(','));
}
