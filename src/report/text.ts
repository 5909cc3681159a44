import { groupBy } from '../core/group.js';
import type { Plan, PlannedChange } from '../core/plan.js';
import type { Colors } from './style.js';
import { isLong, show, wordDiff } from './values.js';

const SYMBOL = { add: '+', update: '~', remove: '-' } as const;

function symbol(change: PlannedChange, colors: Colors): string {
  if (change.skipped !== undefined) return colors.yellow('!');
  const paint = { add: colors.green, update: colors.yellow, remove: colors.red }[change.action];
  return paint(SYMBOL[change.action]);
}

function label(change: PlannedChange): string {
  return change.property === 'tag' ? `tag ${change.key ?? ''}` : change.property;
}

function describeChange(change: PlannedChange, colors: Colors, statementsOf: ((change: PlannedChange) => string[]) | undefined): string[] {
  const lines: string[] = [];
  const head = `  ${symbol(change, colors)} ${label(change)}`;
  if (change.action === 'update' && change.before !== null && change.after !== null && (isLong(change.before) || isLong(change.after)))
    lines.push(`${head}:`, `      ${wordDiff(change.before, change.after, colors)}`);
  else if (change.action === 'add') lines.push(`${head}: ${show(change.after)}`);
  else if (change.action === 'remove') lines.push(`${head}: ${show(change.before)} -> ${colors.dim('(none)')}`);
  else lines.push(`${head}: ${show(change.before)} -> ${show(change.after)}`);
  if (change.skipped !== undefined) lines.push(colors.yellow(`      skipped: ${change.skipped}`));
  else if (statementsOf) for (const statement of statementsOf(change)) lines.push(colors.dim(`      ${statement.replaceAll('\n', '\n      ')}`));
  return lines;
}

/** Changes grouped by object, in plan order. */
export function groupByAddress(changes: readonly PlannedChange[]): Map<string, PlannedChange[]> {
  return groupBy(changes, (change) => change.address);
}

export interface TextReportOptions {
  colors: Colors;
  /** "plan" lists statements; "drift" says what differs. */
  kind: 'plan' | 'drift';
}

export function planText(plan: Plan, options: TextReportOptions): string {
  const { colors, kind } = options;
  const lines: string[] = [];
  for (const warning of plan.warnings) lines.push(colors.yellow(`Warning: ${warning}`));
  if (plan.changes.length === 0) {
    lines.push(kind === 'plan' ? 'No changes. The sources match the YAML.' : 'No drift. The sources match the YAML.');
    return lines.join('\n');
  }
  lines.push(kind === 'plan' ? 'metaform will make these changes:' : 'Drift: the sources differ from the YAML:', '');
  const operations = new Map(plan.operations.map((operation) => [operation.id, operation]));
  const printed = new Set<string>();
  // Each operation's statements once, under the first change it applies.
  const statementsOf = (change: PlannedChange): string[] => {
    const operation = change.operation === undefined ? undefined : operations.get(change.operation);
    if (!operation || printed.has(operation.id)) return [];
    printed.add(operation.id);
    return operation.statements;
  };
  for (const [address, changes] of groupByAddress(plan.changes)) {
    lines.push(colors.bold(`# ${address}`) + colors.dim(` (${changes[0]?.level})`));
    for (const change of changes) lines.push(...describeChange(change, colors, kind === 'plan' ? statementsOf : undefined));
    lines.push('');
  }
  lines.push(summaryLine(plan, kind));
  return lines.join('\n');
}

export function summaryLine(plan: Plan, kind: 'plan' | 'drift'): string {
  const { add, update, remove, skipped } = plan.summary;
  const verb = kind === 'plan' ? 'Plan' : 'Drift';
  return `${verb}: ${add} to add, ${update} to change, ${remove} to remove${skipped ? `, ${skipped} skipped` : ''}.`;
}
