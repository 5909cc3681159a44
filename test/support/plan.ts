import type { Plan, PlannedChange } from '../../src/core/plan.js';

/** The statements of the operation that applies `change` (statements live on operations). */
export function statementsOf(plan: Plan, change: PlannedChange | undefined): string[] {
  if (!change?.operation) return [];
  return plan.operations.find((operation) => operation.id === change.operation)?.statements ?? [];
}
