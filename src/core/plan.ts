import type { Connector, ServiceConfig } from './connector.js';
import { groupBy } from './group.js';
import { serverFactsOf, type CatalogSnapshot, type Change, type JsonValue, type Operation, type SkippedChange } from './model.js';
import { orderOwnerLast } from './order.js';
import { findTemplate, renderTemplate } from './templates.js';

/**
 * 2: statements live on operations only (each once); changes name their operation; the server
 * facts each database's statements were rendered under are recorded.
 * 3: operations say which must succeed before them (`dependsOn`: owner changes last); changes a
 * connector added while preparing say so (`origin`).
 */
export const PLAN_FORMAT_VERSION = 3;

export interface PlannedChange extends Change {
  /** The operation that applies this change (several changes may share one). */
  operation?: string;
  /** Why this change cannot be applied (it stays pending). */
  skipped?: string;
}

export interface PlanSummary {
  add: number;
  update: number;
  remove: number;
  skipped: number;
}

/** service -> database -> the server facts its statements were rendered under. */
export type RenderFacts = Record<string, Record<string, Record<string, JsonValue>>>;

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  createdAt: string;
  metaformVersion?: string;
  git?: { commit?: string; dirty?: boolean };
  /** The facts quoting and rendering depended on; apply refuses the plan when they changed. */
  server: RenderFacts;
  changes: PlannedChange[];
  operations: Operation[];
  warnings: string[];
  summary: PlanSummary;
}

export interface ServicePlanInput {
  connector: Connector;
  service: ServiceConfig;
  changes: Change[];
  snapshot: CatalogSnapshot;
}

export interface RenderedService {
  operations: Operation[];
  skipped: SkippedChange[];
  /** database -> facts, for the databases that have changes. */
  facts: Record<string, Record<string, JsonValue>>;
}

/**
 * Pure: statements for every change, by custom template where one applies, else by the connector,
 * each database with its own server facts.
 */
export function renderService(input: ServicePlanInput): RenderedService {
  const { connector, service, snapshot } = input;
  const result: RenderedService = { operations: [], skipped: [], facts: {} };
  for (const [database, changes] of groupBy(input.changes, (change) => change.path[0] ?? '')) {
    const server = serverFactsOf(snapshot, database);
    result.facts[database] = server;
    const dialect = connector.dialect(server);
    const forConnector: Change[] = [];
    const first = result.operations.length;
    for (const change of changes) {
      const template = findTemplate(service.templates, change);
      if (template === undefined) {
        forConnector.push(change);
        continue;
      }
      result.operations.push({
        id: change.id,
        service: service.name,
        database,
        changeIds: [change.id],
        statements: [renderTemplate(template, change, dialect)],
      });
    }
    if (forConnector.length > 0) {
      const rendered = connector.render(forConnector, snapshot, service, server);
      for (const operation of rendered.operations) result.operations.push(operation);
      for (const skip of rendered.skipped) result.skipped.push(skip);
    }
    orderOwnerLast(result.operations.slice(first), changes);
  }
  return result;
}

/** Pure but for one thing: the input changes are the plan's changes, given their operation or skip reason. */
export function assemblePlan(
  services: ServicePlanInput[],
  meta: { createdAt?: string; metaformVersion?: string; git?: Plan['git']; warnings?: string[] } = {},
): Plan {
  const changes: PlannedChange[] = [];
  const operations: Operation[] = [];
  const server: RenderFacts = {};
  for (const input of services) {
    const rendered = renderService(input);
    const operationOf = new Map<string, string>();
    for (const operation of rendered.operations) for (const id of operation.changeIds) operationOf.set(id, operation.id);
    const skipReason = new Map<string, string>();
    for (const skip of rendered.skipped) skipReason.set(skip.changeId, skip.reason);
    for (const change of input.changes) {
      const operation = operationOf.get(change.id);
      const reason = skipReason.get(change.id) ?? (operation === undefined ? 'the connector rendered no statement for this change' : undefined);
      // The diff's change objects become the plan's (no copy: 200,000 of them are 30 MB).
      const planned: PlannedChange = change;
      if (operation !== undefined) planned.operation = operation;
      if (reason !== undefined) planned.skipped = reason;
      changes.push(planned);
    }
    for (const operation of rendered.operations) operations.push(operation);
    if (Object.keys(rendered.facts).length > 0) server[input.service.name] = rendered.facts;
  }
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: meta.createdAt ?? new Date().toISOString(),
    ...(meta.metaformVersion ? { metaformVersion: meta.metaformVersion } : {}),
    ...(meta.git ? { git: meta.git } : {}),
    server,
    changes,
    operations,
    warnings: meta.warnings ?? [],
    summary: summarize(changes),
  };
}

export function summarize(changes: readonly PlannedChange[]): PlanSummary {
  const summary: PlanSummary = { add: 0, update: 0, remove: 0, skipped: 0 };
  for (const change of changes) {
    if (change.skipped !== undefined) summary.skipped++;
    else summary[change.action]++;
  }
  return summary;
}

export function hasChanges(plan: Plan): boolean {
  return plan.changes.length > 0;
}

/** The part of a plan that concerns these services (apply -s). */
export function planForServices(plan: Plan, services: ReadonlySet<string>): Plan {
  const changes = plan.changes.filter((change) => services.has(change.service));
  const server: RenderFacts = {};
  for (const [name, facts] of Object.entries(plan.server)) if (services.has(name)) server[name] = facts;
  return {
    ...plan,
    server,
    changes,
    operations: plan.operations.filter((operation) => services.has(operation.service)),
    summary: summarize(changes),
  };
}
