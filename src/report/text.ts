import { groupBy } from '../core/group.js';
import type { Operation } from '../core/model.js';
import type { Plan, PlannedChange } from '../core/plan.js';
import { operationOf, operationsById, plural, statementCount } from './operations.js';
import type { Colors } from './style.js';
import { ESCAPED_STATEMENT_NOTE, escapeControls, hasControls, isLong, show, wordDiff } from './values.js';

const SYMBOL = { add: '+', update: '~', remove: '-' } as const;
const INDENT = '      ';

function symbol(change: PlannedChange, colors: Colors): string {
  if (change.skipped !== undefined) return colors.yellow('!');
  const paint = { add: colors.green, update: colors.yellow, remove: colors.red }[change.action];
  return paint(SYMBOL[change.action]);
}

function label(change: PlannedChange): string {
  return escapeControls(change.property === 'tag' ? `tag ${change.key ?? ''}` : change.property);
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

/**
 * Prints each operation's statements once, under the first change it applies; the other changes
 * it applies point there (a MySQL or ClickHouse ALTER covers every column of its table).
 */
class StatementPrinter {
  private readonly operations: Map<string, Operation>;
  /** Operation id -> address of the change its statements were printed under. */
  private readonly printedUnder = new Map<string, string>();

  constructor(
    plan: Plan,
    private readonly colors: Colors,
  ) {
    this.operations = operationsById(plan);
  }

  *lines(change: PlannedChange): Generator<string> {
    const operation = operationOf(change, this.operations);
    if (operation === undefined) return;
    const shownAt = this.printedUnder.get(operation.id);
    if (shownAt !== undefined) {
      const noun = operation.statements.length === 1 ? 'statement' : 'statements';
      yield this.colors.dim(`${INDENT}(in the ${noun} under ${escapeControls(shownAt)})`);
      return;
    }
    this.printedUnder.set(operation.id, change.address);
    const escape = (control: string) => this.colors.inverse(control);
    for (const statement of operation.statements)
      yield this.colors.dim(`${INDENT}${escapeControls(statement, escape).replaceAll('\n', `\n${INDENT}`)}`);
    if (operation.statements.some(hasControls)) yield this.colors.yellow(`${INDENT}(${ESCAPED_STATEMENT_NOTE})`);
  }
}

/**
 * A drift line names its sides: what the source has, what the YAML says. Plan wording ("a" -> "b")
 * would read as a change to make, and a hand edit at the source as going the other way.
 */
function* describeDrift(change: PlannedChange, colors: Colors): Generator<string> {
  const none = colors.dim('(none)');
  yield `  ${symbol(change, colors)} ${label(change)}: source ${change.before === null ? none : show(change.before)}, YAML ${change.after === null ? none : show(change.after)}`;
  if (change.skipped !== undefined) yield colors.yellow(`${INDENT}skipped: ${escapeControls(change.skipped)}`);
}

function* describeChange(change: PlannedChange, colors: Colors, statements: StatementPrinter | undefined): Generator<string> {
  const head = `  ${symbol(change, colors)} ${label(change)}`;
  if (change.action === 'update' && change.before !== null && change.after !== null && (isLong(change.before) || isLong(change.after))) {
    yield `${head}:`;
    yield `${INDENT}${wordDiff(change.before, change.after, colors)}`;
  } else if (change.action === 'add') yield `${head}: ${show(change.after)}`;
  else if (change.action === 'remove') yield `${head}: ${show(change.before)} -> ${colors.dim('(none)')}`;
  else yield `${head}: ${show(change.before)} -> ${show(change.after)}`;
  if (change.skipped !== undefined) yield colors.yellow(`${INDENT}skipped: ${escapeControls(change.skipped)}`);
  else if (statements) yield* statements.lines(change);
}

/** The text report, line by line (no newlines at the ends), for streaming to a terminal or a file. */
export function* planTextLines(plan: Plan, options: TextReportOptions): Generator<string> {
  const { colors, kind } = options;
  for (const warning of plan.warnings) yield colors.yellow(`Warning: ${escapeControls(warning)}`);
  if (plan.changes.length === 0) {
    yield noChangesLine(plan, kind);
    return;
  }
  yield kind === 'plan' ? 'metaform will make these changes:' : 'Drift: the sources differ from the YAML:';
  yield '';
  const statements = kind === 'plan' ? new StatementPrinter(plan, colors) : undefined;
  for (const [address, changes] of groupByAddress(plan.changes)) {
    yield colors.bold(`# ${escapeControls(address)}`) + colors.dim(` (${changes[0]?.level})`);
    for (const change of changes) yield* kind === 'plan' ? describeChange(change, colors, statements) : describeDrift(change, colors);
    yield '';
  }
  yield kind === 'plan' ? `${summaryLine(plan, kind)} ${operationsLine(plan)}` : summaryLine(plan, kind);
}

export function planText(plan: Plan, options: TextReportOptions): string {
  return [...planTextLines(plan, options)].join('\n');
}

/** Counts changes (a batched ALTER applies many). */
export function summaryLine(plan: Pick<Plan, 'summary'>, kind: 'plan' | 'drift'): string {
  const { add, update, remove, skipped } = plan.summary;
  if (kind === 'drift')
    return `Drift: ${add + update + remove} ${add + update + remove === 1 ? 'property differs' : 'properties differ'} from the YAML: ${add} the source lacks, ${update} with another value at the source, ${remove} the YAML removes.`;
  return `Plan: ${add} to add, ${update} to change, ${remove} to remove${skipped ? `, ${skipped} skipped` : ''}.`;
}

/** What will run: operations (each applied in one go) and the statements they hold. */
export function operationsLine(plan: Plan): string {
  return `${plural(plan.operations.length, 'operation')} (${plural(statementCount(plan), 'statement')}).`;
}

/**
 * What a plan without changes says. Objects named in the YAML and missing at the source are its
 * warnings: then the sources do not match, and the line must not say they do.
 */
export function noChangesLine(plan: Plan, kind: 'plan' | 'drift'): string {
  const missing = plan.warnings.length;
  if (missing === 0) return kind === 'plan' ? 'No changes. The sources match the YAML.' : 'No drift. The sources match the YAML.';
  const objects = `${missing} object${missing === 1 ? '' : 's'} named in the YAML ${missing === 1 ? 'does' : 'do'} not exist at the source (listed above)`;
  return kind === 'plan' ? `No changes to make, but ${objects}.` : `Drift: no property differs, but ${objects}.`;
}
