import type { Connector, ServiceConfig } from '../connectors/types.js';
import type { CatalogSnapshot, Change, Operation, SkippedChange } from './model.js';
import { findTemplate, renderTemplate } from './templates.js';

export const PLAN_FORMAT_VERSION = 1;

export interface PlannedChange extends Change {
  /** The statements of the operation that applies this change (shared when batched). */
  statements: string[];
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

export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  createdAt: string;
  metaformVersion?: string;
  git?: { commit?: string; dirty?: boolean };
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

/** Pure: statements for every change, by custom template where one applies, else by the connector. */
export function renderService(input: ServicePlanInput): { operations: Operation[]; skipped: SkippedChange[] } {
  const { connector, service, snapshot } = input;
  const dialect = connector.dialect(snapshot.server);
  const operations: Operation[] = [];
  const skipped: SkippedChange[] = [];
  const byDatabase = new Map<string, Change[]>();
  for (const change of input.changes) {
    const template = findTemplate(service.templates, change);
    if (template !== undefined) {
      operations.push({
        id: change.id,
        service: service.name,
        database: change.path[0] ?? '',
        changeIds: [change.id],
        statements: [renderTemplate(template, change, dialect)],
      });
      continue;
    }
    const database = change.path[0] ?? '';
    const list = byDatabase.get(database) ?? [];
    list.push(change);
    byDatabase.set(database, list);
  }
  for (const changes of byDatabase.values()) {
    const rendered = connector.render(changes, snapshot, service);
    operations.push(...rendered.operations);
    skipped.push(...rendered.skipped);
  }
  return { operations, skipped };
}

export function assemblePlan(
  services: ServicePlanInput[],
  meta: { createdAt?: string; metaformVersion?: string; git?: Plan['git']; warnings?: string[] } = {},
): Plan {
  const changes: PlannedChange[] = [];
  const operations: Operation[] = [];
  for (const input of services) {
    const rendered = renderService(input);
    const operationOf = new Map<string, Operation>();
    for (const operation of rendered.operations) for (const id of operation.changeIds) operationOf.set(id, operation);
    const skipReason = new Map(rendered.skipped.map((skip) => [skip.changeId, skip.reason]));
    for (const change of input.changes) {
      const operation = operationOf.get(change.id);
      const reason = skipReason.get(change.id);
      changes.push({
        ...change,
        statements: operation?.statements ?? [],
        ...(operation ? { operation: operation.id } : {}),
        ...(reason !== undefined ? { skipped: reason } : {}),
        ...(!operation && reason === undefined ? { skipped: 'the connector rendered no statement for this change' } : {}),
      });
    }
    operations.push(...rendered.operations);
  }
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    createdAt: meta.createdAt ?? new Date().toISOString(),
    ...(meta.metaformVersion ? { metaformVersion: meta.metaformVersion } : {}),
    ...(meta.git ? { git: meta.git } : {}),
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
