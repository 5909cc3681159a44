import { dirname, join, relative } from 'node:path';
import { stringify } from 'yaml';
import type { Connector } from '../connectors/types.js';
import { ErrorList, MetaformError } from '../core/errors.js';
import type { ImportedFile } from '../core/import.js';
import { formatAddress, type LiveObject } from '../core/model.js';
import type { Project } from '../core/project.js';
import { SCHEMA_DIR } from '../core/schemas.js';
import { supports } from '../core/validate.js';
import { ambiguousTagMessage, readCatalog, type CatalogRead } from './catalog.js';
import type { ClientOptions, OpenMetadataClient } from './client.js';
import { connectCatalog } from './settings.js';

export interface CatalogImportOptions extends ClientOptions {
  /** Databases to import (default: services.<name>.databases, else every database of the service). */
  databases?: string[];
  /** An already connected client (tests, and commands that reuse one). */
  client?: OpenMetadataClient;
  /** Told about each catalog value the source cannot hold (the YAML would not validate with it). */
  onSkipped?: (message: string) => void;
}

/**
 * YAML from the catalog's descriptions, owners and tags for every database, schema, table and
 * column of the service, in the same layout as `import --from source`: the result plans to no
 * changes against the catalog. Owners are written as the catalog principals owners.map keys
 * (so the plan maps them to source principals); values the source cannot hold are left out
 * and reported through onSkipped.
 */
export async function importFromCatalog(project: Project, serviceName: string, options: CatalogImportOptions = {}): Promise<ImportedFile[]> {
  const entry = project.config.services.get(serviceName);
  if (!entry) throw new MetaformError(`unknown service "${serviceName}"`, undefined, `services in metaform.yaml: ${[...project.config.services.keys()].join(', ')}`);
  const connector = project.connectorFor(entry.config.type);
  if (!connector) throw new MetaformError(`service ${serviceName}: unknown type "${entry.config.type}"`, entry.location);
  const client = options.client ?? (await connectCatalog(project, options));
  const read = await readCatalog(client, entry.config, options.databases ? { databases: options.databases } : {});
  const dir = project.config.metadataDirs[0] ?? 'metadata';
  const errors = new ErrorList();
  const files: ImportedFile[] = [];
  for (const database of read.snapshot.databases.values()) {
    const path = join(dir, serviceName, `${fileName(database.name)}.yaml`);
    const schemaPath = relative(dirname(join(project.config.root, path)), join(SCHEMA_DIR, 'metadata.schema.json'));
    const document = new DocumentBuilder(serviceName, connector, read, errors, options.onSkipped).database(database);
    const header = `# yaml-language-server: $schema=${schemaPath}\n# Imported from OpenMetadata (service ${serviceName}) by metaform import --from openmetadata.\n`;
    files.push({ path, content: header + stringify(document, { lineWidth: 0 }) });
  }
  errors.throwIfAny();
  for (const [address, keys] of read.ambiguous)
    for (const [key, values] of keys) {
      const { message, hint } = ambiguousTagMessage(address, key, values);
      options.onSkipped?.(`${message}; left out (${hint})`);
    }
  return files;
}

function fileName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]+/g, '_') || 'database';
}

type Node = Record<string, unknown>;

class DocumentBuilder {
  constructor(
    private readonly service: string,
    private readonly connector: Connector,
    private readonly read: CatalogRead,
    private readonly errors: ErrorList,
    private readonly onSkipped: ((message: string) => void) | undefined,
  ) {}

  database(database: LiveObject): Node {
    const document: Node = { service: this.service, database: database.name, ...this.properties(database, [database.name]) };
    const schemas: Node = {};
    for (const schema of database.children.values()) {
      const schemaPath = [database.name, schema.name];
      const schemaNode = this.properties(schema, schemaPath);
      const tables: Node = {};
      for (const table of schema.children.values()) {
        const tablePath = [...schemaPath, table.name];
        const tableNode = this.properties(table, tablePath);
        const columns: Node = {};
        for (const column of table.children.values()) {
          const columnNode = this.properties(column, [...tablePath, column.name]);
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

  private properties(object: LiveObject, path: string[]): Node {
    const node: Node = {};
    const address = formatAddress(this.service, path);
    const capabilities = this.connector.capabilities;
    const skip = (what: string) => this.onSkipped?.(`${address}: ${what}: ${this.connector.displayName} has no ${object.level} ${what.split(' ')[0]}; left out`);
    if (object.description) {
      if (supports(capabilities, 'description', object.level)) node['description'] = object.description;
      else skip('description');
    }
    const owners = this.read.owners.get(address);
    if (owners && owners.length > 0) {
      if (!supports(capabilities, 'owner', object.level)) skip('owners');
      else if (owners.length > capabilities.maxOwners)
        this.errors.add(
          `${object.level} ${address} has ${owners.length} owners in OpenMetadata (${owners.join(', ')}); ${this.connector.displayName} holds ${capabilities.maxOwners}`,
          undefined,
          'keep one owner on the asset in OpenMetadata, then import again',
        );
      else node['owners'] = owners;
    }
    if (object.tags && Object.keys(object.tags).length > 0) {
      if (supports(capabilities, 'tags', object.level)) node['tags'] = { ...object.tags };
      else skip('tags');
    }
    return node;
  }
}
