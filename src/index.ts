/** metaform as a library: the same pipeline the CLI runs. */
export { loadProject, type Project, type LoadProjectOptions } from './core/project.js';
export { createPlan, applyPlan, type PlanOptions, type PlanOutcome, type ApplyOptions, type ApplyReport } from './core/pipeline.js';
export { importService, type ImportedFile, type ImportOptions } from './core/import.js';
export { StalePlanError, PlanMismatchError, verifyPlan } from './core/verify.js';
export { diffService, type DiffResult, type MissingObject } from './core/diff.js';
export { assemblePlan, type Plan, type PlannedChange, type PlanSummary } from './core/plan.js';
export { readRuns, type JournalRun, type JournalOperation } from './core/journal.js';
export { MetaformError, MetaformErrors } from './core/errors.js';
export * from './core/model.js';
export type { Capabilities, Connector, ConnectorSession, Dialect, ServiceConfig } from './core/connector.js';
export { connectors, connectorFor } from './connectors/registry.js';
export { planText } from './report/text.js';
export { planMarkdown } from './report/markdown.js';
export * as openmetadata from './openmetadata/index.js';
