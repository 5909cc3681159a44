import { join } from 'node:path';
import type { Connector, ConnectorSession, ServiceConfig } from '../connectors/types.js';
import type { ServiceEntry } from './config.js';
import type { DesiredObject } from './desired.js';
import { diffService, type MissingObject } from './diff.js';
import { ErrorList, formatLocation, MetaformError } from './errors.js';
import { gitRevision } from './git.js';
import { groupBy } from './group.js';
import { runPool } from './pool.js';
import { newRunId, writeRun, type JournalOperation, type JournalRun } from './journal.js';
import { findLive, type CatalogSnapshot, type Change, type Operation, type OperationResult } from './model.js';
import { assemblePlan, type Plan, type PlannedChange, type ServicePlanInput } from './plan.js';
import type { Project } from './project.js';
import { VERSION } from './version.js';

export type ProgressFn = (done: number, total: number, label: string) => void;

export interface PlanOptions {
  /** Only these services (default: all that the YAML names). */
  services?: string[];
  /** Objects named in YAML but missing at the source are warnings, not errors. */
  allowMissing?: boolean;
  onProgress?: ProgressFn;
}

export interface PlanOutcome {
  plan: Plan;
  missing: MissingObject[];
  /** Catalog queries issued to read live state. */
  queries: number;
}

interface ServiceContext {
  entry: ServiceEntry;
  service: ServiceConfig;
  connector: Connector;
  desired: Map<string, DesiredObject>;
}

function serviceContexts(project: Project, names: string[] | undefined): ServiceContext[] {
  for (const name of names ?? [])
    if (!project.config.services.has(name))
      throw new MetaformError(`unknown service "${name}"`, undefined, `services in metaform.yaml: ${[...project.config.services.keys()].join(', ')}`);
  const contexts: ServiceContext[] = [];
  for (const [name, entry] of project.config.services) {
    if (names && !names.includes(name)) continue;
    const connector = project.connectorFor(entry.config.type);
    if (!connector) throw new MetaformError(`service ${name}: unknown type "${entry.config.type}"`, entry.location);
    contexts.push({ entry, service: entry.config, connector, desired: project.desired.get(name) ?? new Map() });
  }
  return contexts;
}

/** Opens a session, with errors that name the service and host and never a password. */
export async function connectService(entry: ServiceEntry, connector: Connector): Promise<ConnectorSession> {
  if (entry.missingVariables.length > 0)
    throw new MetaformError(
      `service ${entry.config.name}: the connection reads unset environment variable${entry.missingVariables.length > 1 ? 's' : ''} ${entry.missingVariables.join(', ')}`,
      entry.location,
      'set them, or give a default with ${VAR:-default}',
    );
  try {
    return await connector.connect(entry.config);
  } catch (error) {
    if (error instanceof MetaformError) throw error.location ? error : new MetaformError(error.message, entry.location, error.hint);
    throw new MetaformError(
      `service ${entry.config.name}: cannot connect to ${connector.displayName} at ${connector.describeTarget(entry.config)}: ${error instanceof Error ? error.message : String(error)}`,
      entry.location,
    );
  }
}

/** The databases and schemas the YAML names: reads stay within what is managed. */
function readScope(context: ServiceContext): { databases: string[]; schemas: Map<string, string[]> } {
  const allowed = context.service.databases;
  const errors = new ErrorList();
  const databases: string[] = [];
  const schemas = new Map<string, string[]>();
  // Keys are canonical names (as the engine stores them), which is what catalog filters compare.
  for (const [name, database] of context.desired) {
    if (allowed && !allowed.includes(name))
      errors.add(
        `database ${name} is outside the scope of service ${context.service.name} (databases: ${allowed.join(', ')})`,
        database.declaredAt,
        `add it to services.${context.service.name}.databases`,
      );
    databases.push(name);
    schemas.set(name, [...database.children.keys()]);
  }
  errors.throwIfAny();
  return { databases, schemas };
}

async function readService(context: ServiceContext, session: ConnectorSession, onProgress?: ProgressFn): Promise<CatalogSnapshot> {
  const scope = readScope(context);
  // With no schema named under a database, only database-level properties are managed.
  return session.read({ ...scope, ...(onProgress ? { onProgress } : {}) });
}

export async function createPlan(project: Project, options: PlanOptions = {}): Promise<PlanOutcome> {
  const inputs: ServicePlanInput[] = [];
  const missing: MissingObject[] = [];
  let queries = 0;
  for (const context of serviceContexts(project, options.services)) {
    if (context.desired.size === 0) continue;
    const session = await connectService(context.entry, context.connector);
    let snapshot: CatalogSnapshot;
    let diff: ReturnType<typeof diffService>;
    try {
      snapshot = await readService(context, session, options.onProgress);
      diff = diffService({
        service: context.service,
        desired: context.desired,
        snapshot,
        ...(context.connector.canonicalName ? { canonicalName: context.connector.canonicalName } : {}),
      });
      await session.prepare?.(diff.changes, snapshot);
    } finally {
      await session.close();
    }
    queries += snapshot.queries;
    missing.push(...diff.missing);
    inputs.push({ connector: context.connector, service: context.service, changes: diff.changes, snapshot });
  }
  if (missing.length > 0 && !options.allowMissing) {
    const errors = new ErrorList();
    for (const object of missing)
      errors.add(`${object.level} ${object.address} does not exist at the source`, object.at, 'fix the name, create the object, or plan with --allow-missing');
    errors.throwIfAny();
  }
  const warnings = missing.map((object) => `${formatLocation(object.at)}: ${object.level} ${object.address} does not exist at the source; skipped`);
  const git = await gitRevision(project.config.root);
  const plan = assemblePlan(inputs, { metaformVersion: VERSION, warnings, ...(git ? { git } : {}) });
  return { plan, missing, queries };
}

export interface ApplyOptions {
  /** Re-read every object the plan touches and refuse if any "before" no longer holds. */
  checkStale?: boolean;
  /** Databases applied at once (default 4). */
  concurrency?: number;
  onResult?: (result: OperationResult, operation: Operation) => void;
}

export interface ApplyReport {
  run: JournalRun;
  journalPath: string;
  succeeded: number;
  failed: number;
}

/** Thrown when a saved plan no longer describes the source. */
export class StalePlanError extends MetaformError {
  constructor(readonly stale: { change: PlannedChange; live: string | null }[]) {
    super(
      `the plan is stale: ${stale.length} object${stale.length > 1 ? 's' : ''} changed since it was made:\n` +
        stale
          .slice(0, 20)
          .map(({ change, live }) => `  ${change.id}: plan expected ${JSON.stringify(change.before)}, found ${JSON.stringify(live)}`)
          .join('\n'),
      undefined,
      'run `metaform plan` again and review the new plan',
    );
  }
}

/** The live value a change's `before` describes. */
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

export async function applyPlan(project: Project, plan: Plan, options: ApplyOptions = {}): Promise<ApplyReport> {
  const startedAt = new Date();
  const byService = groupBy(plan.operations, (operation) => operation.service);
  const contexts = new Map(serviceContexts(project, [...byService.keys()]).map((context) => [context.service.name, context]));
  const changeById = new Map(plan.changes.map((change) => [change.id, change]));

  const sessions = new Map<string, ConnectorSession>();
  const results = new Map<string, OperationResult>();
  try {
    const connectionErrors = new Map<string, string>();
    for (const [name, context] of contexts) {
      try {
        sessions.set(name, await connectService(context.entry, context.connector));
      } catch (error) {
        connectionErrors.set(name, error instanceof Error ? error.message : String(error));
      }
    }
    if (options.checkStale) await refuseStalePlan(plan, sessions, changeById);

    const groups: { service: string; database: string; operations: Operation[] }[] = [];
    for (const [service, operations] of byService) {
      const error = connectionErrors.get(service);
      if (error !== undefined) {
        for (const operation of operations) {
          const result: OperationResult = { operationId: operation.id, outcome: 'not-run', error, durationMs: 0, attempts: 0 };
          results.set(operation.id, result);
          options.onResult?.(result, operation);
        }
        continue;
      }
      for (const [database, list] of groupBy(operations, (operation) => operation.database)) groups.push({ service, database, operations: list });
    }
    const operationById = new Map(plan.operations.map((operation) => [operation.id, operation]));
    await runPool(groups, options.concurrency ?? 4, async (group) => {
      const session = sessions.get(group.service);
      if (!session) return;
      try {
        await session.execute({
          database: group.database,
          operations: group.operations,
          onResult: (result) => {
            results.set(result.operationId, result);
            const operation = operationById.get(result.operationId);
            if (operation) options.onResult?.(result, operation);
          },
        });
      } catch (error) {
        // A connector that failed outright: every operation it did not report is failed.
        for (const operation of group.operations)
          if (!results.has(operation.id))
            results.set(operation.id, { operationId: operation.id, outcome: 'failed', error: String(error instanceof Error ? error.message : error), durationMs: 0, attempts: 0 });
      }
    });
  } finally {
    await Promise.all([...sessions.values()].map((session) => session.close().catch(() => undefined)));
  }

  const operations: JournalOperation[] = plan.operations.map((operation) => {
    const result = results.get(operation.id) ?? { operationId: operation.id, outcome: 'not-run' as const, durationMs: 0, attempts: 0 };
    return {
      id: operation.id,
      service: operation.service,
      database: operation.database,
      statements: operation.statements,
      changes: operation.changeIds.flatMap((id) => {
        const change = changeById.get(id);
        return change
          ? [{ id, address: change.address, property: change.property, ...(change.key !== undefined ? { key: change.key } : {}), action: change.action, before: change.before, after: change.after }]
          : [];
      }),
      outcome: result.outcome,
      ...(result.error !== undefined ? { error: result.error } : {}),
      durationMs: Math.round(result.durationMs * 1000) / 1000,
      attempts: result.attempts,
    };
  });
  const skipped = plan.changes
    .filter((change) => change.skipped !== undefined)
    .map((change) => ({ id: change.id, address: change.address, reason: change.skipped ?? '' }));
  const count = (outcome: string) => operations.filter((operation) => operation.outcome === outcome).length;
  const run: JournalRun = {
    id: newRunId(startedAt),
    command: 'apply',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    planCreatedAt: plan.createdAt,
    ...(plan.git ? { git: plan.git } : {}),
    operations,
    skipped,
    summary: { succeeded: count('succeeded'), failed: count('failed'), notRun: count('not-run'), skipped: skipped.length },
  };
  const journalPath = await writeRun(join(project.config.root, project.config.stateDir), run);
  return { run, journalPath, succeeded: run.summary.succeeded, failed: run.summary.failed + run.summary.notRun };
}

async function refuseStalePlan(
  plan: Plan,
  sessions: Map<string, ConnectorSession>,
  changeById: Map<string, PlannedChange>,
): Promise<void> {
  const stale: { change: PlannedChange; live: string | null }[] = [];
  for (const [service, session] of sessions) {
    const changes = [...changeById.values()].filter((change) => change.service === service && change.skipped === undefined);
    const schemas = new Map<string, Set<string>>();
    for (const change of changes) {
      const [database = '', schema] = change.path;
      const set = schemas.get(database) ?? new Set<string>();
      if (schema !== undefined) set.add(schema);
      schemas.set(database, set);
    }
    const snapshot = await session.read({
      databases: [...schemas.keys()],
      schemas: new Map([...schemas].map(([database, set]) => [database, [...set]])),
    });
    for (const change of changes) {
      const live = liveValue(snapshot, change);
      if (live !== change.before) stale.push({ change, live: live ?? null });
    }
  }
  if (stale.length > 0) throw new StalePlanError(stale);
}
