/**
 * The check that makes "a reviewed plan is exactly what runs" true: before anything runs, under
 * the apply locks, each service's touched objects are read again, and the plan is refused when
 * - a server fact its statements were rendered under changed (quoting settings, version),
 * - an object's value is no longer the plan's `before` (someone else changed it, or it is gone),
 * - the statements rendered now from the plan's changes differ from the plan's statements
 *   (an edited plan file must not run SQL that metaform would not have written).
 */
import type { Connector, ConnectorSession, ServiceConfig } from './connector.js';
import { MetaformError } from './errors.js';
import { formatAddress, findLive, serverFactsOf, type CatalogSnapshot, type Change, type JsonValue, type Operation } from './model.js';
import { renderService, type Plan, type PlannedChange } from './plan.js';

/** Differences listed in a refusal; the count says how many more there are. */
const SHOWN = 20;

function listed(lines: readonly string[]): string {
  const shown = lines.slice(0, SHOWN).map((line) => `  ${line}`);
  if (lines.length > SHOWN) shown.push(`  ... and ${lines.length - SHOWN} more`);
  return shown.join('\n');
}

/** Thrown when a saved plan no longer describes the source. */
export class StalePlanError extends MetaformError {
  constructor(readonly stale: { change: PlannedChange; live: string | null | undefined }[]) {
    super(
      `the plan is stale: ${stale.length} object${stale.length > 1 ? 's' : ''} changed since it was made:\n` +
        listed(
          stale.map(({ change, live }) =>
            live === undefined
              ? `${change.id}: ${change.level} ${change.address} no longer exists`
              : `${change.id}: plan expected ${JSON.stringify(change.before)}, found ${JSON.stringify(live)}`,
          ),
        ),
      undefined,
      'run `metaform plan` again and review the new plan',
    );
  }
}

/** Thrown when a plan's statements or server facts are not what metaform renders now. */
export class PlanMismatchError extends MetaformError {
  constructor(
    readonly differences: string[],
    hint: string,
  ) {
    super(`the plan cannot be applied as reviewed:\n${listed(differences)}`, undefined, hint);
  }
}

/** The live value a change's `before` describes; undefined when the object is gone. */
export function liveValue(snapshot: CatalogSnapshot, change: Change): string | null | undefined {
  const object = findLive(snapshot, change.path);
  if (!object) return undefined;
  switch (change.property) {
    case 'description':
      return object.description || null;
    case 'owner':
      return object.owner ?? null;
    case 'tag':
      return object.tags?.[change.key ?? ''] ?? null;
  }
}

export interface VerifyTarget {
  session: ConnectorSession;
  connector: Connector;
  service: ServiceConfig;
}

export async function verifyPlan(plan: Plan, targets: readonly VerifyTarget[]): Promise<void> {
  const byService = new Map<string, PlannedChange[]>();
  for (const change of plan.changes) {
    const list = byService.get(change.service);
    if (list) list.push(change);
    else byService.set(change.service, [change]);
  }
  checkIntegrity(plan);
  for (const target of targets) {
    const changes = byService.get(target.service.name) ?? [];
    if (changes.length === 0) continue;
    // The diff's changes; the rest are changes a connector added while preparing (Snowflake's
    // CREATE TAG), which preparing again adds again if they are still needed.
    const diffChanges = changes.filter((change) => change.origin === undefined);
    const snapshot = await target.session.read({ ...readScope(changes), current: diffChanges.map((change) => change.path) });
    const stale: { change: PlannedChange; live: string | null | undefined }[] = [];
    for (const change of diffChanges) {
      if (change.skipped !== undefined) continue;
      const live = liveValue(snapshot, change);
      if (live !== change.before) stale.push({ change, live });
    }
    if (stale.length > 0) throw new StalePlanError(stale);
    // Copies: preparing may correct, drop or add changes, and the plan must stay as reviewed.
    const fresh: Change[] = diffChanges.map(asChange);
    await target.session.prepare?.(fresh, snapshot);
    // After preparing, which may record facts of its own (as it did when the plan was made).
    checkFacts(plan, target.service.name, snapshot);
    const rendered = renderService({ connector: target.connector, service: target.service, changes: fresh, snapshot });
    compareOperations(
      plan.operations.filter((operation) => operation.service === target.service.name),
      rendered.operations,
      target.service.name,
    );
  }
}

/** A change as the diff made it, without what planning added. */
function asChange(change: PlannedChange): Change {
  const { operation: _operation, skipped: _skipped, ...rest } = change;
  return { ...rest, path: [...change.path] };
}

/** Every change's id and address must name the object its path designates. */
function checkIntegrity(plan: Plan): void {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const change of plan.changes) {
    const address = formatAddress(change.service, change.path);
    if (change.address !== address || !change.id.startsWith(`${address}#`)) problems.push(`change ${change.id}: its address and path name different objects`);
    if (ids.has(change.id)) problems.push(`change ${change.id} appears twice`);
    ids.add(change.id);
  }
  const operations = new Map<string, Operation>();
  for (const operation of plan.operations) operations.set(operation.id, operation);
  for (const operation of plan.operations) {
    for (const id of operation.changeIds) if (!ids.has(id)) problems.push(`operation ${operation.id} applies change ${id}, which the plan does not list`);
    for (const id of operation.dependsOn ?? []) {
      const before = operations.get(id);
      if (before?.service !== operation.service || before.database !== operation.database)
        problems.push(`operation ${operation.id} waits for operation ${id}, which is not an operation of its database`);
    }
  }
  if (problems.length > 0) throw new PlanMismatchError(problems, 'the plan file was edited or damaged: make a new one with `metaform plan --out`');
}

function readScope(changes: readonly Change[]): { databases: string[]; schemas: Map<string, string[]> } {
  const schemas = new Map<string, Set<string>>();
  for (const change of changes) {
    const [database = '', schema] = change.path;
    let set = schemas.get(database);
    if (!set) schemas.set(database, (set = new Set()));
    if (schema !== undefined) set.add(schema);
  }
  const scope = new Map<string, string[]>();
  for (const [database, set] of schemas) scope.set(database, [...set]);
  return { databases: [...schemas.keys()], schemas: scope };
}

function checkFacts(plan: Plan, service: string, snapshot: CatalogSnapshot): void {
  const differences: string[] = [];
  for (const [database, recorded] of Object.entries(plan.server[service] ?? {})) {
    const now = serverFactsOf(snapshot, database);
    const names = new Set([...Object.keys(recorded), ...Object.keys(now)]);
    for (const name of names) {
      const before = factText(recorded[name]);
      const after = factText(now[name]);
      if (before !== after) differences.push(`service ${service}, database ${database}: ${name} was ${before} when the plan was made, and is ${after} now`);
    }
  }
  if (differences.length > 0)
    throw new PlanMismatchError(differences, 'the statements were quoted and rendered for the old setting: run `metaform plan` again and review the new plan');
}

function factText(value: JsonValue | undefined): string {
  return value === undefined ? '(not set)' : JSON.stringify(value);
}

function compareOperations(planned: readonly Operation[], rendered: readonly Operation[], service: string): void {
  const differences: string[] = [];
  const renderedById = new Map<string, Operation>();
  for (const operation of rendered) renderedById.set(operation.id, operation);
  for (const operation of planned) {
    const now = renderedById.get(operation.id);
    renderedById.delete(operation.id);
    if (!now) differences.push(`operation ${operation.id}: metaform renders no statement for it now`);
    else if (!sameList(operation.changeIds, now.changeIds) || operation.database !== now.database)
      differences.push(`operation ${operation.id}: it applies other changes than metaform renders now`);
    else if (!sameList(operation.statements, now.statements))
      differences.push(`operation ${operation.id}: its statements differ from what metaform renders for its changes now`);
    else if (!sameList(operation.dependsOn ?? [], now.dependsOn ?? []))
      differences.push(`operation ${operation.id}: it runs in another order than metaform renders now (dependsOn)`);
  }
  for (const operation of renderedById.values()) differences.push(`operation ${operation.id}: metaform renders it now, and the plan does not have it`);
  if (differences.length > 0)
    throw new PlanMismatchError(
      differences.map((line) => `service ${service}, ${line}`),
      'the plan file was edited, made by another metaform version, or the objects changed in a way that changes the SQL: run `metaform plan` again',
    );
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
