import type { Plan, PlannedChange } from '../core/plan.js';
import { plural, statementCount } from './operations.js';
import { noChangesLine, summaryLine } from './text.js';
import { ESCAPED_STATEMENT_NOTE, escapeControls, hasControls } from './values.js';

/** Cell text is cut here: a pull-request comment is no place for a whole long description. */
const CELL_CHARACTERS = 300;

/** Escapes text for a Markdown table cell (pipes, newlines, backticks, HTML and control characters). */
export function markdownCell(value: string | null): string {
  if (value === null) return '_(none)_';
  const escaped = escapeControls(
    value
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('|', '\\|')
      .replaceAll('`', '&#96;')
      .replace(/\r?\n/g, '<br>'),
  );
  return escaped.length > CELL_CHARACTERS ? `${escaped.slice(0, CELL_CHARACTERS)}…` : escaped;
}

const ACTION = { add: '➕ add', update: '✏️ change', remove: '➖ remove' } as const;

function row(change: PlannedChange): string {
  const property = change.property === 'tag' ? `tag \`${escapeControls(change.key ?? '').replaceAll('`', "'")}\`` : change.property;
  const action = change.skipped !== undefined ? `⚠️ skipped: ${markdownCell(change.skipped)}` : ACTION[change.action];
  return `| ${action} | \`${escapeControls(change.address).replaceAll('`', "'")}\` | ${property} | ${markdownCell(change.before)} | ${markdownCell(change.after)} |`;
}

/** The longest run of backticks in `text` (ClickHouse and MySQL quote every identifier with them). */
function longestBacktickRun(text: string): number {
  let longest = 0;
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) === 96) {
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  return longest;
}

/** The SQL block's lines: each operation's statements once, headed by what it applies when it batches several changes. */
function* sqlLines(plan: Plan): Generator<string> {
  for (const operation of plan.operations) {
    if (operation.changeIds.length > 1) yield `-- ${escapeControls(operation.id).replaceAll('\n', '\\n')}: ${plural(operation.changeIds.length, 'change')}`;
    for (const statement of operation.statements) {
      if (hasControls(statement)) yield `-- ${ESCAPED_STATEMENT_NOTE}`;
      yield `${escapeControls(statement)};`;
    }
  }
}

/** A report fit for a pull-request comment, line by line (no newlines at the ends). */
export function* planMarkdownLines(plan: Plan, kind: 'plan' | 'drift'): Generator<string> {
  yield kind === 'plan' ? '### metaform plan' : '### metaform drift report';
  yield '';
  for (const warning of plan.warnings) yield* [`> ⚠️ ${markdownCell(warning)}`, ''];
  if (plan.changes.length === 0) {
    yield noChangesLine(plan, kind);
    return;
  }
  yield* [`**${summaryLine(plan, kind)}**`, '', kind === 'plan' ? '| | Object | Property | Before | After |' : '| | Object | Property | Source | YAML |', '|---|---|---|---|---|'];
  for (const change of plan.changes) yield row(change);
  if (kind !== 'plan') return;
  let longest = 0;
  for (const line of sqlLines(plan)) longest = Math.max(longest, longestBacktickRun(line));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  const count = `${plural(statementCount(plan), 'statement')} in ${plural(plan.operations.length, 'operation')}`;
  yield* ['', `<details><summary>${count}</summary>`, '', `${fence}sql`];
  yield* sqlLines(plan);
  yield* [fence, '', '</details>'];
}

export function planMarkdown(plan: Plan, kind: 'plan' | 'drift'): string {
  return `${[...planMarkdownLines(plan, kind)].join('\n')}\n`;
}
