import { dirname, join, relative, sep } from 'node:path';
import { stringify } from 'yaml';
import type { Connector, ServiceConfig } from './connector.js';
import type { ServiceEntry } from './config.js';
import { MetaformError } from './errors.js';
import type { CatalogSnapshot, LiveObject } from './model.js';
import { connectService } from './pipeline.js';
import type { Project } from './project.js';
import { supports } from './validate.js';

export interface ImportedFile {
  /** Relative to the project root. */
  path: string;
  content: string;
  /** The database the file defines (its canonical name). */
  database?: string;
}

export interface ImportOptions {
  /** Databases to import (default: services.<name>.databases, else the connection's database). */
  databases?: string[];
}

/**
 * YAML for what the source has: every description, tag, and every owner that differs from its
 * parent's (objects inherit their container's owner in practice; listing each would bury the
 * exceptions). The result plans to no changes.
 */
export async function importService(project: Project, serviceName: string, options: ImportOptions = {}): Promise<ImportedFile[]> {
  const entry = project.config.services.get(serviceName);
  if (!entry) throw new MetaformError(`unknown service "${serviceName}"`, undefined, `services in metaform.yaml: ${[...project.config.services.keys()].join(', ')}`);
  const connector = project.connectorFor(entry.config.type);
  if (!connector) throw new MetaformError(`service ${serviceName}: unknown type "${entry.config.type}"`, entry.location);
  // On a two-level engine (MySQL), `-d world` and `databases: [world]` both name the engine's databases.
  const single = connector.singleDatabase;
  const engineNames = options.databases ?? entry.config.databases;
  const scope = engineNames && single !== undefined ? engineDatabases(single, engineNames) : undefined;
  const databases = scope?.databases ?? options.databases ?? entry.config.databases ?? defaultDatabases(entry, connector);
  const session = await connectService(entry, connector);
  try {
    const snapshot = await session.read(scope ?? { databases });
    if (scope) refuseUnknownEngineDatabases(snapshot, engineNames ?? [], connector, entry.config);
    const dir = project.config.metadataDirs[0] ?? 'metadata';
    return [...snapshot.databases.values()].map((database) => {
      const path = join(dir, serviceName, `${fileName(database.name)}.yaml`);
      const schemaPath = editorSchemaPath(project.config.root, path);
      const document = databaseDocument(serviceName, database, connector, entry.config);
      const header = `# yaml-language-server: $schema=${schemaPath}\n# Imported from ${serviceName} by metaform import.\n`;
      return { path, content: header + stringify(document, { lineWidth: 0 }), database: database.name };
    });
  } finally {
    await session.close();
  }
}

/**
 * What `init`'s scaffold writes: the schema in the project's own node_modules (metaform as a dev
 * dependency), relative to the file. It holds in every teammate's checkout and in CI, unlike a
 * path into wherever metaform happens to be installed on this machine.
 */
function editorSchemaPath(root: string, file: string): string {
  const toRoot = relative(dirname(join(root, file)), root).split(sep).join('/');
  return `${toRoot ? `${toRoot}/` : ''}node_modules/metaform/schemas/metadata.schema.json`;
}

function defaultDatabases(entry: ServiceEntry, connector: Connector): string[] {
  const service = entry.config;
  const named = connector.defaultDatabases?.(service);
  if (named) return named;
  const configured = service.connection['database'] ?? connector.connectionDatabase?.(service);
  if (typeof configured === 'string' && configured !== '') return [configured];
  if (connector.singleDatabase !== undefined) return [connector.singleDatabase];
  throw new MetaformError(
    `service ${service.name}: which databases to import? The connection names none`,
    entry.location,
    `set services.${service.name}.databases or connection.database, or pass -d <database>`,
  );
}

/** On a two-level engine `-d shop` names the engine's database `shop`, which metaform files as a schema of its single database. */
function engineDatabases(single: string, names: string[]): { databases: string[]; schemas: Map<string, string[]> } {
  return { databases: [single], schemas: new Map([[single, names]]) };
}

function refuseUnknownEngineDatabases(snapshot: CatalogSnapshot, names: string[], connector: Connector, service: ServiceConfig): void {
  const found = snapshot.databases.get(connector.singleDatabase ?? '')?.children;
  const missing = names.filter((name) => !found?.has(name));
  if (missing.length > 0)
    throw new MetaformError(
      `${connector.displayName} has no database ${missing.join(', ')} at ${connector.describeTarget(service)}`,
      undefined,
      `metaform files each ${connector.displayName} database as a schema under the database "${connector.singleDatabase ?? ''}"; -d names ${connector.displayName} databases`,
    );
}

/** The metadata files other than `path` that define objects of the database: importing over them would define those twice. */
export function otherDefiningFiles(project: Project, service: string, database: string, path: string): string[] {
  const root = project.desired.get(service)?.get(database);
  const files = new Set<string>();
  const stack = root ? [root] : [];
  for (let object = stack.pop(); object; object = stack.pop()) {
    if (object.declaredAt.file !== path) files.add(object.declaredAt.file);
    for (const child of object.children.values()) stack.push(child);
  }
  return [...files].sort();
}

function fileName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'database';
}

/**
 * YAML maps as JS Maps: a plain object would turn a name like `__proto__` into its prototype and
 * drop it. `stringify` writes a Map as a YAML map, in insertion order.
 */
type Node = Map<string, unknown>;

function databaseDocument(service: string, database: LiveObject, connector: Connector, config: ServiceConfig): Node {
  const reverseOwners = new Map(Object.entries(config.owners.map).map(([principal, role]) => [role, principal]));
  const properties = (object: LiveObject, parentOwner: string | null | undefined): Node => {
    const node: Node = new Map();
    const can = (property: 'description' | 'owner' | 'tags') => supports(connector.capabilities, property, object.level);
    if (can('description') && object.description) node.set('description', object.description);
    if (can('owner') && object.owner && object.owner !== parentOwner) node.set('owners', [reverseOwners.get(object.owner) ?? object.owner]);
    if (can('tags') && object.tags && Object.keys(object.tags).length > 0) node.set('tags', new Map(Object.entries(object.tags)));
    return node;
  };
  const document: Node = new Map<string, unknown>([
    ['service', service],
    ['database', database.name],
  ]);
  for (const [key, value] of properties(database, undefined)) document.set(key, value);
  const schemas: Node = new Map();
  for (const schema of database.children.values()) {
    const schemaNode = properties(schema, database.owner);
    const tables: Node = new Map();
    for (const table of schema.children.values()) {
      const tableNode = properties(table, schema.owner);
      const columns: Node = new Map();
      for (const column of table.children.values()) {
        const columnNode = properties(column, undefined);
        if (columnNode.size === 1 && columnNode.has('description')) columns.set(column.name, columnNode.get('description'));
        else if (columnNode.size > 0) columns.set(column.name, columnNode);
      }
      if (columns.size > 0) tableNode.set('columns', columns);
      if (tableNode.size > 0) tables.set(table.name, tableNode);
    }
    if (tables.size > 0) schemaNode.set('tables', tables);
    if (schemaNode.size > 0) schemas.set(schema.name, schemaNode);
  }
  if (schemas.size > 0) document.set('schemas', schemas);
  return document;
}
