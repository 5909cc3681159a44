/**
 * Markdown for pull-request comments, issues and the job summary, built within a size budget:
 * GitHub refuses a comment or issue body over 65,536 characters (422) and a job summary over
 * 1 MiB. Only what fits is rendered, so a plan of 200,000 changes costs no more than the budget;
 * the cut falls between two objects' changes and says how much was left out and where it is.
 */
import type { Plan, PlannedChange } from '../core/plan.js';
import type { Operation } from '../core/model.js';
import { plural as count } from '../report/operations.js';
import { summaryLine } from '../report/text.js';
import { escapeControls } from '../report/values.js';

/** Comments and issue bodies: GitHub counts code points; UTF-16 length is never less. */
export const COMMENT_BUDGET = 60_000;
/** The job summary: 1 MiB per step, counted in bytes. */
export const SUMMARY_BUDGET = 1_000_000;
/** A value longer than this is shown cut, with the count of what was cut. */
const VALUE_PREVIEW = 600;
/** Room kept for the closing fence and the truncation note. */
const NOTE_RESERVE = 1_500;

export type Measure = (text: string) => number;
export const characters: Measure = (text) => text.length;
export const utf8Bytes: Measure = (text) => Buffer.byteLength(text, 'utf8');

export interface ReportOptions {
  kind: 'plan' | 'drift';
  /** The first lines: the marker and a heading. */
  head: string;
  /** Lines after the summary table (the plan hash, the outcome of a check). */
  intro?: string[];
  budget: number;
  measure?: Measure;
  /** Where the whole plan is, for the truncation note. */
  fullPlanAt?: string;
}

export interface BuiltReport {
  body: string;
  truncated: boolean;
  shownChanges: number;
}

/** Collects parts while they fit; never more than the budget. */
class Budgeted {
  readonly parts: string[] = [];
  size = 0;
  constructor(
    private readonly budget: number,
    private readonly measure: Measure,
  ) {}
  fits(text: string, reserve = 0): boolean {
    return this.size + this.measure(text) + reserve <= this.budget;
  }
  add(text: string): void {
    this.parts.push(text);
    this.size += this.measure(text);
  }
}

/** JSON-quoted (C0 controls escaped) and, like the other reports, bidi and C1 controls escaped too. */
function preview(value: string | null): string {
  if (value === null) return '(none)';
  if (value.length <= VALUE_PREVIEW) return escapeControls(JSON.stringify(value));
  return `${escapeControls(JSON.stringify(value.slice(0, VALUE_PREVIEW)))}… (+${value.length - VALUE_PREVIEW} characters)`;
}

function propertyName(change: PlannedChange): string {
  return change.property === 'tag' ? `tag ${JSON.stringify(change.key ?? '')}` : change.property;
}

/** Lines of a ```diff block: + added, - removed, a change as its old and new line. */
function changeLines(change: PlannedChange): string[] {
  const name = propertyName(change);
  if (change.skipped !== undefined) return [`! ${name}: ${preview(change.before)} -> ${preview(change.after)}  (skipped: ${escapeControls(change.skipped.replace(/\s+/g, ' '))})`];
  if (change.action === 'add') return [`+ ${name}: ${preview(change.after)}`];
  if (change.action === 'remove') return [`- ${name}: ${preview(change.before)}`];
  return [`- ${name}: ${preview(change.before)}`, `+ ${name}: ${preview(change.after)}`];
}

/** Statements indented by four spaces: never a fence, whatever they contain. */
function statementLines(operation: Operation): string[] {
  const lines: string[] = [];
  for (const statement of operation.statements) for (const line of `${statement};`.split('\n')) lines.push(`    ${escapeControls(line)}`);
  return lines;
}


function escapeCell(text: string): string {
  return escapeControls(text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('|', '\\|').replace(/\s+/g, ' '));
}

/** Per service and level: add / change / remove / skipped; then the skip reasons, most frequent first. */
export function summaryTable(changes: readonly PlannedChange[]): string[] {
  const rows = new Map<string, { service: string; level: string; add: number; update: number; remove: number; skipped: number }>();
  const reasons = new Map<string, number>();
  for (const change of changes) {
    const key = `${change.service}\u0000${change.level}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { service: change.service, level: change.level, add: 0, update: 0, remove: 0, skipped: 0 }));
    if (change.skipped !== undefined) {
      row.skipped++;
      reasons.set(change.skipped, (reasons.get(change.skipped) ?? 0) + 1);
    } else row[change.action]++;
  }
  const lines = ['| Service | Level | Add | Change | Remove | Skipped |', '|---|---|--:|--:|--:|--:|'];
  for (const row of rows.values())
    lines.push(`| ${escapeCell(row.service)} | ${row.level} | ${row.add} | ${row.update} | ${row.remove} | ${row.skipped} |`);
  if (reasons.size > 0) {
    lines.push('', 'Skipped, and why:');
    const sorted = [...reasons].sort((a, b) => b[1] - a[1]);
    for (const [reason, times] of sorted.slice(0, 10)) lines.push(`- ${times} × ${escapeCell(reason.length > 300 ? `${reason.slice(0, 300)}…` : reason)}`);
    if (sorted.length > 10) lines.push(`- and ${sorted.length - 10} other reasons (see the plan file)`);
  }
  return lines;
}

/**
 * The report: head, summary table, then each object's changes with the statements that apply
 * them, in a ```diff block, until the budget is spent.
 */
export function buildReport(plan: Plan, options: ReportOptions): BuiltReport {
  const out = new Budgeted(options.budget, options.measure ?? characters);
  const kind = options.kind;
  const opening = [options.head, '', `**${summaryLine(plan, kind)}**`, ''];
  if (plan.changes.length > 0) opening.push(...summaryTable(plan.changes), '');
  for (const line of options.intro ?? []) opening.push(line);
  if (options.intro?.length) opening.push('');
  for (const warning of plan.warnings.slice(0, 20)) opening.push(`> ⚠️ ${escapeCell(warning)}`, '');
  if (plan.warnings.length > 20) opening.push(`> ⚠️ and ${plan.warnings.length - 20} more warnings (see the plan file)`, '');
  const openingText = `${opening.join('\n')}\n`;
  if (!out.fits(openingText, NOTE_RESERVE)) throw new Error('the report heading alone exceeds the size budget');
  out.add(openingText);
  if (plan.changes.length === 0) {
    out.add(kind === 'plan' ? 'No changes. The sources match the YAML.\n' : 'No drift. The sources match the YAML.\n');
    return { body: out.parts.join(''), truncated: false, shownChanges: 0 };
  }

  const operationOf = new Map<string, Operation>();
  for (const operation of plan.operations) operationOf.set(`${operation.service}\u0000${operation.id}`, operation);
  const shownOperations = new Set<string>();
  out.add('```diff\n');
  let shown = 0;
  let objects = 0;
  let truncated = false;
  let index = 0;
  const changes = plan.changes;
  while (index < changes.length) {
    // One object's consecutive changes go in or stay out together.
    const first = changes[index] as PlannedChange;
    const lines = [`# ${escapeControls(first.address)} (${first.level})`];
    const newOperations: string[] = [];
    let end = index;
    while (end < changes.length && (changes[end] as PlannedChange).address === first.address && (changes[end] as PlannedChange).service === first.service) {
      const change = changes[end] as PlannedChange;
      for (const line of changeLines(change)) lines.push(line);
      const key = change.operation === undefined ? undefined : `${change.service}\u0000${change.operation}`;
      const operation = key === undefined ? undefined : operationOf.get(key);
      if (kind === 'plan' && key !== undefined && operation && !shownOperations.has(key) && !newOperations.includes(key)) {
        newOperations.push(key);
        for (const line of statementLines(operation)) lines.push(line);
      }
      end++;
    }
    const block = `${lines.join('\n')}\n`;
    if (!out.fits(block, NOTE_RESERVE)) {
      truncated = true;
      break;
    }
    out.add(block);
    for (const key of newOperations) shownOperations.add(key);
    shown += end - index;
    objects++;
    index = end;
  }
  out.add('```\n');
  if (truncated) {
    const left = changes.length - shown;
    const where = options.fullPlanAt ? ` The full ${kind === 'plan' ? 'plan' : 'report'}: ${options.fullPlanAt}.` : '';
    out.add(
      `\n> ✂️ **Truncated:** showing ${count(shown, 'change')} on ${count(objects, 'object')}; ${count(left, 'more change')} not shown, to stay under GitHub's size limit.${where}\n`,
    );
  }
  return { body: out.parts.join(''), truncated, shownChanges: shown };
}
