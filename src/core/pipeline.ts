import { resolve } from 'node:path';
import type { Connector, ConnectorSession, ServiceConfig } from './connector.js';
import type { ServiceEntry } from './config.js';
import type { DesiredObject } from './desired.js';
import { diffService, type MissingObject } from './diff.js';
import { ErrorList, formatLocation, MetaformError } from './errors.js';
import { gitRevision } from './git.js';
import { groupBy } from './group.js';
import { runPool } from './pool.js';
import { JournalWriter, newRunId, type JournalOperation, type JournalSummary, type JournalWriteFailure } from './journal.js';
import type { CatalogSnapshot, Operation, OperationResult } from './model.js';
import { assemblePlan, type Plan, type PlannedChange, type ServicePlanInput } from './plan.js';
import { runInOrder } from './order.js';
import { verifyPlan } from './verify.js';
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
      entry.missingAt ?? entry.location,
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
  // On a two-level engine (MySQL) `databases:` names the engine's databases: metaform's schemas.
  const twoLevel = context.connector.singleDatabase !== undefined;
  for (const [name, database] of context.desired) {
    if (allowed && twoLevel) {
      for (const [schema, object] of database.children)
        if (!allowed.includes(schema))
          errors.add(
            `${context.connector.displayName} database ${schema} is outside the scope of service ${context.service.name} (databases: ${allowed.join(', ')})`,
            object.declaredAt,
            `add it to services.${context.service.name}.databases`,
          );
    } else if (allowed && !allowed.includes(name))
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
    for (const object of diff.missing) missing.push(object);
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
  /** Aborting stops launching operations; those in flight finish; the rest are journaled not-run. */
  signal?: AbortSignal;
  /** Which signal the abort came from, for the journal. */
  interruptedBy?: () => 'SIGINT' | 'SIGTERM' | undefined;
  /** How long to wait for another apply's lock on a database (default 30 s). */
  lockTimeoutMs?: number;
  /** Databases applied at once (default 4). */
  concurrency?: number;
  onResult?: (result: OperationResult, operation: Operation) => void;
  /** Progress through the steps before anything runs (locking, checking the plan). */
  onStage?: (stage: string) => void;
}

export interface ApplyReport {
  run: ApplyRun;
  journalPath: string;
  succeeded: number;
  /** Failed and not run. */
  failed: number;
}

/** Apply was stopped (SIGINT, SIGTERM) before any operation started: nothing was applied. */
export class InterruptedBeforeRun extends MetaformError {
  constructor() {
    super('interrupted before any operation ran: nothing was applied');
  }
}

/** The journal could not be written mid-run: nothing new was started; the error lists what the journal lacks. */
export class JournalWriteError extends MetaformError {
  constructor(readonly failure: JournalWriteFailure) {
    const lost = failure.unjournaled;
    super(
      `cannot write the run journal ${failure.path}: ${failure.cause}; no new operation was started` +
        (lost.length > 0
          ? `\n${lost.length} operation${lost.length === 1 ? ' was' : 's were'} committed at the source but ${lost.length === 1 ? 'is' : 'are'} not in the journal:` +
            lost.map((operation) => `\n  committed, not journaled: ${operation.service}/${operation.database} ${operation.id}: ${operation.statements.join('; ')}`).join('')
          : ''),
      undefined,
      'free space where the journal is (or set `state:` in metaform.yaml to another folder), then run `metaform plan`: it shows what is left to apply',
    );
  }
}

export interface ApplyRun {
  id: string;
  summary: JournalSummary;
  interrupted?: 'SIGINT' | 'SIGTERM';
  operations: JournalOperation[];
}

/**
 * Applies a plan: connects, takes each database's apply lock, checks the plan against a fresh
 * read under that lock (see verifyPlan), then runs the operations with bounded concurrency,
 * journaling each outcome as it becomes final.
 */
export async function applyPlan(project: Project, plan: Plan, options: ApplyOptions = {}): Promise<ApplyReport> {
  const startedAt = new Date();
  const byService = groupBy(plan.operations, (operation) => operation.service);
  const serviceNames = new Set<string>(byService.keys());
  for (const change of plan.changes) serviceNames.add(change.service);
  const contexts = new Map(serviceContexts(project, [...serviceNames]).map((context) => [context.service.name, context]));
  const changeById = new Map<string, PlannedChange>();
  for (const change of plan.changes) changeById.set(change.id, change);

  const sessions = new Map<string, ConnectorSession>();
  const connectionErrors = new Map<string, string>();
  try {
    for (const [name, context] of contexts) {
      try {
        sessions.set(name, await connectService(context.entry, context.connector));
      } catch (error) {
        connectionErrors.set(name, error instanceof Error ? error.message : String(error));
      }
    }
    options.onStage?.('Locking');
    for (const [service, operations] of byService) {
      const session = sessions.get(service);
      if (!session?.lock) continue;
      for (const database of new Set(operations.map((operation) => operation.database))) await session.lock(database, options.lockTimeoutMs ?? 30_000);
    }
    options.onStage?.('Checking the plan against the sources');
    const targets = [];
    for (const [name, session] of sessions) {
      const context = contexts.get(name);
      if (context) targets.push({ session, connector: context.connector, service: context.service });
    }
    await verifyPlan(plan, targets);
    // Stopped while locking or checking: nothing ran, so there is nothing to journal.
    if (options.signal?.aborted) throw new InterruptedBeforeRun();

    const runId = newRunId(startedAt);
    // A journal that cannot be written (a full disk) stops the run as a signal would.
    const journalFailed = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, journalFailed.signal]) : journalFailed.signal;
    const journal = JournalWriter.open(resolve(project.config.root, project.config.stateDir), {
      id: runId,
      command: 'apply',
      startedAt: startedAt.toISOString(),
      planCreatedAt: plan.createdAt,
      ...(plan.git ? { git: plan.git } : {}),
      planned: { operations: plan.operations.length, changes: plan.changes.length },
    }, () => journalFailed.abort());
    const kept: JournalOperation[] = [];
    let run: ApplyRun;
    const recorded = new Set<string>();
    const record = (operation: Operation, result: OperationResult) => {
      if (recorded.has(operation.id)) return;
      recorded.add(operation.id);
      const entry = journalOperation(operation, result, changeById);
      kept.push(entry);
      journal.operation(entry);
      options.onResult?.(result, operation);
    };
    try {
      for (const change of plan.changes)
        if (change.skipped !== undefined) journal.skipped({ id: change.id, address: change.address, reason: change.skipped });
      const groups: { service: string; database: string; operations: Operation[] }[] = [];
      for (const [service, operations] of byService) {
        const error = connectionErrors.get(service);
        if (error !== undefined) {
          for (const operation of operations) record(operation, { operationId: operation.id, outcome: 'not-run', error, durationMs: 0, attempts: 0 });
          continue;
        }
        for (const [database, list] of groupBy(operations, (operation) => operation.database)) groups.push({ service, database, operations: list });
      }
      const operationById = new Map<string, Operation>();
      for (const operation of plan.operations) operationById.set(operation.id, operation);
      await runPool(groups, options.concurrency ?? 4, async (group) => {
        const session = sessions.get(group.service);
        if (!session) return;
        const hear = (result: OperationResult) => {
          const operation = operationById.get(result.operationId);
          if (operation) record(operation, result);
        };
        try {
          // Wave by wave: an operation starts once what it depends on succeeded (owners last).
          await runInOrder({
            operations: group.operations,
            signal,
            onResult: hear,
            execute: async (operations, report) => {
              const results = await session.execute({ database: group.database, operations, signal, onResult: report });
              for (const result of results) if (result) report(result);
            },
          });
        } catch (error) {
          // A connector that failed outright: every operation it did not report failed.
          const message = error instanceof Error ? error.message : String(error);
          for (const operation of group.operations)
            record(operation, { operationId: operation.id, outcome: 'failed', error: message, durationMs: 0, attempts: 0 });
        }
      });
      // Whatever no connector reported (interrupted before its group started) did not run.
      for (const operation of plan.operations)
        record(operation, { operationId: operation.id, outcome: 'not-run', error: options.signal?.aborted ? 'interrupted' : 'not reported by the connector', durationMs: 0, attempts: 0 });
    } finally {
      const interrupted = options.signal?.aborted ? options.interruptedBy?.() : undefined;
      const summary = journal.close({ finishedAt: new Date().toISOString(), ...(interrupted ? { interrupted } : {}) });
      run = { id: runId, summary, ...(interrupted ? { interrupted } : {}), operations: kept };
    }
    const failure = journal.writeFailure();
    if (failure) throw new JournalWriteError(failure);
    return { run, journalPath: journal.path, succeeded: run.summary.succeeded, failed: run.summary.failed + run.summary.notRun };
  } finally {
    await Promise.all([...sessions.values()].map((session) => session.close().catch(() => undefined)));
  }
}

function journalOperation(operation: Operation, result: OperationResult, changeById: ReadonlyMap<string, PlannedChange>): JournalOperation {
  const changes: JournalOperation['changes'] = [];
  for (const id of operation.changeIds) {
    const change = changeById.get(id);
    if (change)
      changes.push({ id, address: change.address, property: change.property, ...(change.key !== undefined ? { key: change.key } : {}), action: change.action, before: change.before, after: change.after });
  }
  return {
    id: operation.id,
    service: operation.service,
    database: operation.database,
    statements: operation.statements,
    changes,
    outcome: result.outcome,
    ...(result.error !== undefined ? { error: result.error } : {}),
    durationMs: Math.round(result.durationMs * 1000) / 1000,
    attempts: result.attempts,
  };
}
