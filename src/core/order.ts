/**
 * The order operations must run in, and running them so. Operations say what must have
 * succeeded before them (`dependsOn`); a database's operations run in waves, each wave handed to
 * the connector's execute() as one request, and an operation whose predecessor failed or did not
 * run is reported not-run without being tried.
 */
import type { Change, Operation, OperationOutcome, OperationResult } from './model.js';

/**
 * Owner last. On every engine the old owner loses an object the moment its owner changes
 * (Snowflake GRANT OWNERSHIP, PostgreSQL and Databricks OWNER TO), so a statement on the object
 * that runs after that, as the old owner, is refused. Each operation that changes an object's
 * owner therefore depends on every other operation of the same database on that object; a
 * table's columns, which have no owner of their own, count as the table.
 * Adds to `dependsOn` in place; `changes` are the changes these operations apply.
 */
export function orderOwnerLast(operations: readonly Operation[], changes: readonly Change[]): void {
  // Most plans change no owner (200,000 column descriptions): nothing to index then.
  if (!changes.some((change) => change.property === 'owner')) return;
  const changeById = new Map<string, Change>();
  for (const change of changes) changeById.set(change.id, change);
  // object key -> the operations that touch it (each once).
  const touching = new Map<string, Set<Operation>>();
  const owners: { operation: Operation; key: string }[] = [];
  const ownerIds = new Map<string, Set<string>>();
  for (const operation of operations)
    for (const id of operation.changeIds) {
      const change = changeById.get(id);
      if (!change) continue;
      const key = JSON.stringify([operation.service, ...change.path.slice(0, 3)]);
      let set = touching.get(key);
      if (!set) touching.set(key, (set = new Set()));
      set.add(operation);
      if (change.property !== 'owner') continue;
      owners.push({ operation, key });
      let ids = ownerIds.get(key);
      if (!ids) ownerIds.set(key, (ids = new Set()));
      ids.add(operation.id);
    }
  for (const { operation, key } of owners) {
    const before = new Set(operation.dependsOn);
    const otherOwners = ownerIds.get(key);
    // Two owner operations on one object would wait for each other: a diff never makes them.
    for (const other of touching.get(key) ?? [])
      if (other.database === operation.database && !otherOwners?.has(other.id)) before.add(other.id);
    if (before.size > 0) operation.dependsOn = [...before];
  }
}

export interface OrderedRun {
  operations: readonly Operation[];
  signal?: AbortSignal;
  /** Runs one wave (operations whose predecessors all succeeded); reports each result through `report`. */
  execute(operations: Operation[], report: (result: OperationResult) => void): Promise<unknown>;
  /** Hears every result, the ones not run for a failed predecessor included. */
  onResult(result: OperationResult): void;
}

/**
 * Runs operations wave by wave. Once the signal is aborted no wave starts; the operations left are
 * not reported here (the caller journals them as interrupted).
 */
export async function runInOrder(run: OrderedRun): Promise<void> {
  const outcome = new Map<string, OperationOutcome>();
  const report = (result: OperationResult) => {
    if (outcome.has(result.operationId)) return;
    outcome.set(result.operationId, result.outcome);
    run.onResult(result);
  };
  const inRun = new Set(run.operations.map((operation) => operation.id));
  let pending = [...run.operations];
  while (pending.length > 0 && !run.signal?.aborted) {
    const ready: Operation[] = [];
    const waiting: Operation[] = [];
    let blocked = 0;
    for (const operation of pending) {
      const before = (operation.dependsOn ?? []).filter((id) => inRun.has(id));
      const failed = before.find((id) => outcome.has(id) && outcome.get(id) !== 'succeeded');
      if (failed !== undefined) {
        blocked++;
        report({ operationId: operation.id, outcome: 'not-run', error: `not run: operation ${failed}, which must succeed first, did not`, durationMs: 0, attempts: 0 });
      } else if (before.every((id) => outcome.get(id) === 'succeeded')) ready.push(operation);
      else waiting.push(operation);
    }
    if (ready.length === 0 && blocked === 0) {
      for (const operation of waiting)
        report({ operationId: operation.id, outcome: 'not-run', error: 'not run: its operations depend on each other in a cycle', durationMs: 0, attempts: 0 });
      return;
    }
    if (ready.length > 0) await run.execute(ready, report);
    pending = waiting;
  }
}
