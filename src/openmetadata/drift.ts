import { diffService } from '../core/diff.js';
import type { DesiredObject } from '../core/desired.js';
import type { CatalogSnapshot, Level, Property } from '../core/model.js';
import type { ServiceConfig } from '../connectors/types.js';
import type { CatalogState } from './state.js';
import type { LastChange } from './catalog.js';

/** One managed property whose three values do not all agree. */
export interface ThreeWayRow {
  /** The plan's change id: `<address>#<property>[:<key>]`. */
  id: string;
  address: string;
  level: Level;
  property: Property;
  key?: string;
  /** Values in source terms (owners mapped through owners.map). */
  yaml: string | null;
  source: string | null;
  catalog: string | null;
  /** Which sides differ from the YAML. */
  differs: ('source' | 'catalog')[];
  /** Who changed the catalog's value last, and how. */
  catalogLastChange?: LastChange;
}

export interface ThreeWayInput {
  service: ServiceConfig;
  desired: ReadonlyMap<string, DesiredObject>;
  source: CatalogSnapshot;
  catalog: CatalogState;
  canonicalName?: (name: string, level: Level) => string;
}

/** Pure: YAML, source and catalog side by side for every managed property where they disagree. */
export function threeWayDrift(input: ThreeWayInput): ThreeWayRow[] {
  const base = { service: input.service, desired: input.desired, ...(input.canonicalName ? { canonicalName: input.canonicalName } : {}) };
  const bySource = diffService({ ...base, snapshot: input.source }).changes;
  const byCatalog = diffService({ ...base, snapshot: input.catalog.snapshot }).changes;
  const rows = new Map<string, ThreeWayRow>();
  const row = (change: (typeof bySource)[number]): ThreeWayRow => {
    let found = rows.get(change.id);
    if (!found) {
      const last = input.catalog.lastChange.get(`${change.address}#${change.property === 'tag' ? 'tags' : change.property}`);
      found = { id: change.id, address: change.address, level: change.level, property: change.property, ...(change.key !== undefined ? { key: change.key } : {}), yaml: change.after, source: change.after, catalog: change.after, differs: [], ...(last ? { catalogLastChange: last } : {}) };
      rows.set(change.id, found);
    }
    return found;
  };
  for (const change of bySource) {
    const found = row(change);
    found.source = change.before;
    found.differs.push('source');
  }
  for (const change of byCatalog) {
    const found = row(change);
    found.catalog = change.before;
    found.differs.push('catalog');
  }
  return [...rows.values()];
}
