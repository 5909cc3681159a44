import { dirname, join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { Connector, ServiceConfig } from '../connectors/types.js';
import { MetaformError } from './errors.js';
import type { CatalogSnapshot, LiveObject } from './model.js';
import { connectService } from './pipeline.js';
import type { Project } from './project.js';
import { SCHEMA_DIR } from './schemas.js';
import { supports } from './validate.js';

export interface ImportedFile {
  /** Relative to the project root. */
  path: string;
  content: string;
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
  const scope = options.databases && isTwoLevel(connector) ? engineDatabases(options.databases) : undefined;
  const databases = scope?.databases ?? options.databases ?? entry.config.databases ?? defaultDatabases(entry.config, connector);
  const session = await connectService(entry, connector);
  try {
    const snapshot = await session.read(scope ?? { databases });
    if (scope) refuseUnknownEngineDatabases(snapshot, options.databases ?? [], connector, entry.config);
    const dir = project.config.metadataDirs[0] ?? 'metadata';
    return [...snapshot.databases.values()].map((database) => {
      const path = join(dir, serviceName, `${fileName(database.name)}.yaml`);
      const schemaPath = relative(dirname(join(project.config.root, path)), join(SCHEMA_DIR, 'metadata.schema.json'));
      const document = databaseDocument(serviceName, database, connector, entry.config);
      const header = `# yaml-language-server: $schema=${schemaPath}\n# Imported from ${serviceName} by metaform import.\n`;
      return { path, content: header + stringify(document, { lineWidth: 0 }) };
    });
  } finally {
    await session.close();
  }
}

function defaultDatabases(service: ServiceConfig, connector: Connector): string[] {
  const configured = service.connection['database'];
  if (typeof configured === 'string') return [configured];
  if (!connector.capabilities.description.includes('database') && !connector.capabilities.owner.includes('database')) return ['default'];
  throw new MetaformError(
    `service ${service.name}: which databases to import? Set services.${service.name}.databases or connection.database`,
  );
}

/** MySQL, ClickHouse: no database level; metaform's database is `default`, the engine's databases are its schemas. */
function isTwoLevel(connector: Connector): boolean {
  return !supports(connector.capabilities, 'description', 'database') && !supports(connector.capabilities, 'owner', 'database');
}

/** On a two-level engine `-d shop` names the engine's database `shop`, which metaform files as a schema of `default`. */
function engineDatabases(names: string[]): { databases: string[]; schemas: Map<string, string[]> } {
  return { databases: ['default'], schemas: new Map([['default', names]]) };
}

function refuseUnknownEngineDatabases(snapshot: CatalogSnapshot, names: string[], connector: Connector, service: ServiceConfig): void {
  const found = snapshot.databases.get('default')?.children;
  const missing = names.filter((name) => !found?.has(name));
  if (missing.length > 0)
    throw new MetaformError(
      `${connector.displayName} has no database ${missing.join(', ')} at ${connector.describeTarget(service)}`,
      undefined,
      `metaform files each ${connector.displayName} database as a schema under the database "default"; -d names ${connector.displayName} databases`,
    );
}

function fileName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'database';
}

type Node = Record<string, unknown>;

function databaseDocument(service: string, database: LiveObject, connector: Connector, config: ServiceConfig): Node {
  const reverseOwners = new Map(Object.entries(config.owners.map).map(([principal, role]) => [role, principal]));
  const properties = (object: LiveObject, parentOwner: string | null | undefined): Node => {
    const node: Node = {};
    const can = (property: 'description' | 'owner' | 'tags') => supports(connector.capabilities, property, object.level);
    if (can('description') && object.description) node['description'] = object.description;
    if (can('owner') && object.owner && object.owner !== parentOwner) node['owners'] = [reverseOwners.get(object.owner) ?? object.owner];
    if (can('tags') && object.tags && Object.keys(object.tags).length > 0) node['tags'] = { ...object.tags };
    return node;
  };
  const document: Node = { service, database: database.name, ...properties(database, undefined) };
  const schemas: Node = {};
  for (const schema of database.children.values()) {
    const schemaNode = properties(schema, database.owner);
    const tables: Node = {};
    for (const table of schema.children.values()) {
      const tableNode = properties(table, schema.owner);
      const columns: Node = {};
      for (const column of table.children.values()) {
        const columnNode = properties(column, undefined);
        const keys = Object.keys(columnNode);
        if (keys.length === 1 && keys[0] === 'description') columns[column.name] = columnNode['description'];
        else if (keys.length > 0) columns[column.name] = columnNode;
      }
      if (Object.keys(columns).length > 0) tableNode['columns'] = columns;
      if (Object.keys(tableNode).length > 0) tables[table.name] = tableNode;
    }
    if (Object.keys(tables).length > 0) schemaNode['tables'] = tables;
    if (Object.keys(schemaNode).length > 0) schemas[schema.name] = schemaNode;
  }
  if (Object.keys(schemas).length > 0) document['schemas'] = schemas;
  return document;
}
