import type { Operation } from '../core/model.js';
import type { Plan, PlannedChange } from '../core/plan.js';

/** The plan's operations by id: a change finds its statements through `change.operation`. */
export function operationsById(plan: Plan): Map<string, Operation> {
  const byId = new Map<string, Operation>();
  for (const operation of plan.operations) byId.set(operation.id, operation);
  return byId;
}

export function operationOf(change: PlannedChange, operations: ReadonlyMap<string, Operation>): Operation | undefined {
  return change.operation === undefined ? undefined : operations.get(change.operation);
}

export function statementCount(plan: Plan): number {
  let count = 0;
  for (const operation of plan.operations) count += operation.statements.length;
  return count;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
