import { createHash, type Hash } from 'node:crypto';
import type { Operation } from './model.js';
import type { Plan, PlannedChange } from './plan.js';

/**
 * A plan's hash covers what a reviewer approves: each change (service, address, property, key,
 * action, before, after, skipped) and each operation's statements. Not createdAt, git, warnings
 * or source locations, which change between two runs of the same plan. Changes and operations
 * are sorted first, so the hash does not depend on the order they were read in.
 */
const HASH_VERSION = 'metaform-plan-hash/1';

function changeKey(change: PlannedChange): string {
  return `${change.service}\u0000${change.id}`;
}

function operationKey(operation: Operation): string {
  return `${operation.service}\u0000${operation.database}\u0000${operation.id}`;
}

/** Canonical JSON of one change: fixed key order, absent values as null. */
export function canonicalChange(change: PlannedChange): string {
  return JSON.stringify([change.service, change.address, change.property, change.key ?? null, change.action, change.before, change.after, change.skipped ?? null]);
}

export function canonicalOperation(operation: Operation): string {
  return JSON.stringify([operation.service, operation.database, operation.statements]);
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortedBy<T>(items: readonly T[], key: (item: T) => string): T[] {
  const keyed = items.map((item) => ({ key: key(item), item }));
  keyed.sort((a, b) => compareKeys(a.key, b.key));
  return keyed.map((entry) => entry.item);
}

function digest(hash: Hash): string {
  return `sha256:${hash.digest('hex')}`;
}

/** Fed line by line, so a plan of 200,000 changes never becomes one string. */
function hashOf(changes: readonly PlannedChange[], operations: readonly Operation[]): string {
  const hash = createHash('sha256');
  hash.update(`${HASH_VERSION}\nchanges ${changes.length}\n`);
  for (const change of sortedBy(changes, changeKey)) hash.update(`${canonicalChange(change)}\n`);
  hash.update(`operations ${operations.length}\n`);
  for (const operation of sortedBy(operations, operationKey)) hash.update(`${canonicalOperation(operation)}\n`);
  return digest(hash);
}

/** `sha256:<hex>` of what a reviewer approves in this plan. */
export function planHash(plan: Pick<Plan, 'changes' | 'operations'>): string {
  return hashOf(plan.changes, plan.operations);
}

/** The hash of each service's part of the plan, to say which service changed. */
export function serviceHashes(plan: Pick<Plan, 'changes' | 'operations'>): Map<string, string> {
  const changes = new Map<string, PlannedChange[]>();
  const operations = new Map<string, Operation[]>();
  for (const change of plan.changes) {
    const list = changes.get(change.service);
    if (list) list.push(change);
    else changes.set(change.service, [change]);
  }
  for (const operation of plan.operations) {
    const list = operations.get(operation.service);
    if (list) list.push(operation);
    else operations.set(operation.service, [operation]);
  }
  const hashes = new Map<string, string>();
  for (const service of [...new Set([...changes.keys(), ...operations.keys()])].sort())
    hashes.set(service, hashOf(changes.get(service) ?? [], operations.get(service) ?? []));
  return hashes;
}

/**
 * A short digest of each change together with the statements of its operation: comparing the
 * digests of two plans names the changes that are new or different.
 */
export function changeDigests(plan: Pick<Plan, 'changes' | 'operations'>, length = 12): Map<string, string> {
  const statementsOf = new Map<string, string>();
  for (const operation of plan.operations) statementsOf.set(`${operation.service}\u0000${operation.id}`, canonicalOperation(operation));
  const digests = new Map<string, string>();
  for (const change of plan.changes) {
    const hash = createHash('sha256').update(canonicalChange(change));
    if (change.operation !== undefined) hash.update(`\n${statementsOf.get(`${change.service}\u0000${change.operation}`) ?? ''}`);
    digests.set(changeKey(change), hash.digest('hex').slice(0, length));
  }
  return digests;
}
