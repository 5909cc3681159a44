import type { Plan, PlannedChange } from '../core/plan.js';
import { summaryLine } from './text.js';

/** Escapes text for a Markdown table cell (pipes, newlines, backticks and HTML). */
function cell(value: string | null): string {
  if (value === null) return '_(none)_';
  const escaped = value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('|', '\\|')
    .replaceAll('`', '&#96;')
    .replace(/\r?\n/g, '<br>');
  return escaped.length > 300 ? `${escaped.slice(0, 300)}…` : escaped;
}

const ACTION = { add: '➕ add', update: '✏️ change', remove: '➖ remove' } as const;

function row(change: PlannedChange): string {
  const property = change.property === 'tag' ? `tag \`${change.key ?? ''}\`` : change.property;
  const action = change.skipped !== undefined ? `⚠️ skipped: ${cell(change.skipped)}` : ACTION[change.action];
  return `| ${action} | \`${change.address.replaceAll('`', "'")}\` | ${property} | ${cell(change.before)} | ${cell(change.after)} |`;
}

/** A report fit for a pull-request comment. */
export function planMarkdown(plan: Plan, kind: 'plan' | 'drift'): string {
  const title = kind === 'plan' ? '### metaform plan' : '### metaform drift report';
  const lines = [title, ''];
  for (const warning of plan.warnings) lines.push(`> ⚠️ ${cell(warning)}`, '');
  if (plan.changes.length === 0) {
    lines.push(kind === 'plan' ? 'No changes. The sources match the YAML.' : 'No drift. The sources match the YAML.');
    return lines.join('\n') + '\n';
  }
  lines.push(`**${summaryLine(plan, kind)}**`, '', '| | Object | Property | Before | After |', '|---|---|---|---|---|');
  lines.push(...plan.changes.map(row));
  if (kind === 'plan') {
    const statements = plan.operations.flatMap((operation) => operation.statements);
    const fence = '`'.repeat(Math.max(3, ...[...statements.join('\n').matchAll(/`+/g)].map((m) => m[0].length + 1)));
    lines.push('', `<details><summary>${statements.length} statement${statements.length === 1 ? '' : 's'}</summary>`, '', `${fence}sql`);
    lines.push(...statements.map((statement) => `${statement};`), fence, '', '</details>');
  }
  return lines.join('\n') + '\n';
}
