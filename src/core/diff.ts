import type { ServiceConfig } from './connector.js';
import type { DesiredObject } from './desired.js';
import {
  changeId,
  formatAddress,
  type CatalogSnapshot,
  type Change,
  type ChangeAction,
  type Level,
  type LiveObject,
  type Property,
  type SourceLocation,
} from './model.js';

export interface MissingObject {
  address: string;
  level: Level;
  at: SourceLocation;
}

export interface DiffResult {
  changes: Change[];
  missing: MissingObject[];
}

export interface DiffInput {
  service: ServiceConfig;
  desired: ReadonlyMap<string, DesiredObject>;
  snapshot: CatalogSnapshot;
  /** How the engine folds names (identity when absent). */
  canonicalName?: (name: string, level: Level) => string;
}

/** Pure: the changes that make the live state match the desired state of one service. */
export function diffService(input: DiffInput): DiffResult {
  const result: DiffResult = { changes: [], missing: [] };
  const canonical = input.canonicalName ?? ((name: string) => name);
  const differ = new ObjectDiffer(input.service, result);
  const liveDatabases = byCanonicalName([...input.snapshot.databases.values()], 'database', canonical);
  const visit = (desired: DesiredObject, live: LiveObject | undefined, livePath: string[]) => {
    if (!live) {
      result.missing.push({ address: formatAddress(input.service.name, desired.path), level: desired.level, at: desired.declaredAt });
      return;
    }
    differ.compare(desired, live, livePath);
    if (desired.children.size === 0) return;
    const childLevel = [...desired.children.values()][0]?.level ?? 'column';
    const liveChildren = byCanonicalName([...live.children.values()], childLevel, canonical);
    for (const [key, child] of desired.children) {
      const liveChild = liveChildren.get(key);
      visit(child, liveChild, liveChild ? [...livePath, liveChild.name] : livePath);
    }
  };
  for (const [key, database] of input.desired) {
    const live = liveDatabases.get(key);
    visit(database, live, live ? [live.name] : []);
  }
  return result;
}

function byCanonicalName(
  objects: LiveObject[],
  level: Level,
  canonical: (name: string, level: Level) => string,
): Map<string, LiveObject> {
  return new Map(objects.map((object) => [canonical(object.name, level), object]));
}

class ObjectDiffer {
  constructor(
    private readonly service: ServiceConfig,
    private readonly result: DiffResult,
  ) {}

  compare(desired: DesiredObject, live: LiveObject, path: string[]): void {
    if (desired.description) {
      const before = live.description || null; // an empty comment is no comment
      this.emit(desired, path, 'description', undefined, before, desired.description.value, desired.description.at);
    }
    if (desired.owners) {
      const [owner] = desired.owners.value;
      const after = owner === undefined ? null : (this.service.owners.map[owner] ?? owner);
      this.emit(desired, path, 'owner', undefined, live.owner ?? null, after, desired.owners.at);
    }
    if (desired.tags) {
      const liveTags = live.tags ?? {};
      for (const [key, wanted] of desired.tags) {
        this.emit(desired, path, 'tag', key, liveTags[key] ?? null, wanted.value, wanted.at);
      }
      if (this.service.tags.prune) {
        const at = [...desired.tags.values()][0]?.at ?? desired.declaredAt;
        for (const [key, value] of Object.entries(liveTags)) {
          if (!desired.tags.has(key)) this.emit(desired, path, 'tag', key, value, null, at);
        }
      }
    }
  }

  private emit(
    desired: DesiredObject,
    path: string[],
    property: Property,
    key: string | undefined,
    before: string | null,
    after: string | null,
    source: SourceLocation,
  ): void {
    if (before === after) return;
    const action: ChangeAction = before === null ? 'add' : after === null ? 'remove' : 'update';
    const address = formatAddress(this.service.name, path);
    this.result.changes.push({
      id: changeId(address, property, key),
      service: this.service.name,
      address,
      path,
      level: desired.level,
      property,
      ...(key === undefined ? {} : { key }),
      action,
      before,
      after,
      source,
    });
  }
}
