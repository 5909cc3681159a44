import type { Connector, ServiceConfig } from '../connectors/types.js';
import type { ServiceEntry } from '../core/config.js';
import type { DesiredObject } from '../core/desired.js';
import { MetaformError } from '../core/errors.js';
import { findLive, type CatalogSnapshot, type Level, type LiveObject } from '../core/model.js';
import { connectService } from '../core/pipeline.js';
import type { Project } from '../core/project.js';

export interface ServiceHandle {
  entry: ServiceEntry;
  service: ServiceConfig;
  connector: Connector;
  desired: Map<string, DesiredObject>;
}

export function serviceHandle(project: Project, name: string): ServiceHandle {
  const entry = project.config.services.get(name);
  if (!entry) throw new MetaformError(`unknown service "${name}"`, undefined, `services in metaform.yaml: ${[...project.config.services.keys()].join(', ')}`);
  const connector = project.connectorFor(entry.config.type);
  if (!connector) throw new MetaformError(`service ${name}: unknown type "${entry.config.type}"`, entry.location);
  return { entry, service: entry.config, connector, desired: project.desired.get(name) ?? new Map() };
}

/**
 * The source's live state of what the YAML names (the scope plan reads), or with `wholeDatabases`
 * every schema of the databases the YAML names.
 */
export async function readSource(handle: ServiceHandle, options: { wholeDatabases?: boolean } = {}): Promise<CatalogSnapshot> {
  const databases = [...handle.desired.keys()];
  const schemas = new Map<string, string[]>();
  for (const [name, database] of handle.desired) schemas.set(name, [...database.children.keys()]);
  const session = await connectService(handle.entry, handle.connector);
  try {
    return await session.read(options.wholeDatabases ? { databases } : { databases, schemas });
  } finally {
    await session.close();
  }
}

const LEVELS: Level[] = ['database', 'schema', 'table', 'column'];
/** Siblings by canonical name, built once per sibling map (a scan per lookup would be quadratic). */
const canonicalIndexes = new WeakMap<Map<string, LiveObject>, Map<string, LiveObject>>();

/** The object at `path` (names as written), matched through the engine's name folding. */
export function findByName(snapshot: CatalogSnapshot, path: readonly string[], connector: Connector): LiveObject | undefined {
  const direct = findLive(snapshot, path);
  const canonical = connector.canonicalName?.bind(connector);
  if (direct || !canonical) return direct;
  let node: LiveObject | undefined;
  let children = snapshot.databases;
  for (let i = 0; i < path.length; i++) {
    const level = LEVELS[i] as Level;
    let index = canonicalIndexes.get(children);
    if (!index) {
      index = new Map();
      for (const child of children.values()) index.set(canonical(child.name, level), child);
      canonicalIndexes.set(children, index);
    }
    node = index.get(canonical(path[i] as string, level));
    if (!node) return undefined;
    children = node.children;
  }
  return node;
}

/** The desired object at `path` (canonical keys), or undefined when the YAML does not name it. */
export function findDesired(desired: Map<string, DesiredObject>, path: readonly string[], connector: Connector): DesiredObject | undefined {
  const levels = LEVELS;
  let children = desired;
  let node: DesiredObject | undefined;
  for (let i = 0; i < path.length; i++) {
    const name = path[i] as string;
    node = children.get(connector.canonicalName?.(name, levels[i] as Level) ?? name);
    if (!node) return undefined;
    children = node.children;
  }
  return node;
}
