/**
 * Reads one database service of the catalog in bulk (databases, schemas, then the tables of each
 * schema with columns, tags and owners, in pages of up to 1,000: no request per table or column)
 * and maps it onto metaform's objects: names as the source has them (the connectors'
 * `__reserved__` replacements reverted), owners in source terms through `owners.map`, tags as
 * classification -> key and tag -> value from manually applied classification labels only.
 */
import type { ServiceConfig } from '../connectors/types.js';
import { ErrorList, MetaformError } from '../core/errors.js';
import { formatAddress, liveChild, newLiveObject, type CatalogSnapshot, type Level, type LiveObject } from '../core/model.js';
import type { CatalogColumn, CatalogEntity, CatalogUser, ChangeSummaryEntry, EntityCollection, EntityReference, OpenMetadataClient, TagLabel } from './client.js';
import { buildFqn, fqnSegment, sourceName, splitFqn } from './fqn.js';

export const COLLECTION_OF: Record<Exclude<Level, 'column'>, EntityCollection> = { database: 'databases', schema: 'databaseSchemas', table: 'tables' };

/** Who changed a property last, as the catalog's change summary says. */
export interface LastChange {
  changeSource?: string;
  changedBy?: string;
  changedAt?: number;
  /**
   * True when the server keeps no change summary and this is the entity's last updater
   * (`updatedBy`, `updatedAt`): the edit may have been of another field of the entity.
   */
  inferred?: boolean;
}

export interface CatalogRead {
  /** The catalog's values in metaform's terms; diffService(desired, snapshot) is "YAML vs catalog". */
  snapshot: CatalogSnapshot;
  /** Address -> the catalog FQN of the entity or column. */
  fqns: Map<string, string>;
  /**
   * Address -> the catalog principals set on it (user name or e-mail as owners.map keys them, team
   * name); owners inherited from a container are the container's and are not listed.
   */
  owners: Map<string, string[]>;
  /** `<address>#description`, `<address>#owner`, `<address>#tags` -> the last change of that field. */
  lastChange: Map<string, LastChange>;
  /** HTTP requests the read made. */
  requests: number;
}

export interface ReadCatalogOptions {
  /** Only these databases (catalog names as the source has them). */
  databases?: string[];
}

/** Manually applied classification labels are the ones metaform manages. */
export function isManagedLabel(label: TagLabel): boolean {
  return label.source === 'Classification' && label.labelType === 'Manual';
}

/** Classification -> key; the tag (its FQN below the classification, for nested tags) -> value. */
export function tagKeyValue(tagFQN: string): { key: string; value: string } {
  const [key = '', ...rest] = splitFqn(tagFQN);
  return { key, value: rest.length === 1 ? (rest[0] as string) : buildFqn(rest) };
}

/** The FQN of tag `value` of classification `key` (a tag directly below its classification). */
export function tagFqnOf(key: string, value: string): string {
  return buildFqn([key, value]);
}

/** Resolves owners through owners.map: catalog principal (user name or e-mail, team name) -> source principal. */
export class OwnerMapper {
  constructor(
    private readonly service: ServiceConfig,
    private readonly usersById: Map<string, CatalogUser>,
  ) {}

  /** The key this catalog reference has in owners.map (its name, else its e-mail), or its name. */
  principal(reference: EntityReference): string {
    const name = reference.name ?? reference.fullyQualifiedName ?? reference.id;
    const map = this.service.owners.map;
    if (name in map) return name;
    const email = reference.type === 'user' ? this.usersById.get(reference.id)?.email : undefined;
    if (email && email in map) return email;
    return name;
  }

  toSource(principal: string): string {
    return this.service.owners.map[principal] ?? principal;
  }
}

/** Users by id, read only when owners.map keys someone by e-mail (references carry no e-mail). */
export async function readUsers(client: OpenMetadataClient, service: ServiceConfig): Promise<Map<string, CatalogUser>> {
  const users = new Map<string, CatalogUser>();
  if (!Object.keys(service.owners.map).some((key) => key.includes('@'))) return users;
  await client.listAll<CatalogUser>('/users', { fields: 'email' }, 'list users', (page) => {
    for (const user of page) users.set(user.id, user);
  });
  return users;
}

export async function readCatalog(client: OpenMetadataClient, service: ServiceConfig, options: ReadCatalogOptions = {}): Promise<CatalogRead> {
  const before = client.requests;
  const ownerField = client.ownerField;
  try {
    await client.request('GET', `/services/databaseServices/name/${fqnSegment(buildFqn([service.name]))}`, { about: `database service ${service.name}` });
  } catch (error) {
    if (error instanceof MetaformError && /HTTP 404/.test(error.message))
      throw new MetaformError(`OpenMetadata at ${client.url} has no database service "${service.name}"`, undefined, 'a service name in metaform.yaml is the OpenMetadata database service name');
    throw error;
  }
  const mapper = new OwnerMapper(service, await readUsers(client, service));
  const read: CatalogRead = {
    snapshot: { service: service.name, databases: new Map(), server: { openmetadata: client.server.version }, queries: 0 },
    fqns: new Map(),
    owners: new Map(),
    lastChange: new Map(),
    requests: 0,
  };
  const errors = new ErrorList();
  const wanted = options.databases ?? service.databases;

  const databases: CatalogEntity[] = [];
  await client.listAll<CatalogEntity>('/databases', { service: service.name, fields: `${ownerField},tags` }, `databases of service ${service.name}`, (page) => {
    for (const entity of page) if (!wanted || wanted.includes(sourceName(entity.name))) databases.push(entity);
  });
  for (const database of databases) {
    const databaseObject = newLiveObject('database', sourceName(database.name));
    read.snapshot.databases.set(databaseObject.name, databaseObject);
    absorb(read, mapper, errors, service, database, databaseObject, [databaseObject.name]);
    const schemas: CatalogEntity[] = [];
    await client.listAll<CatalogEntity>('/databaseSchemas', { database: database.fullyQualifiedName, fields: `${ownerField},tags` }, `schemas of database ${database.fullyQualifiedName}`, (page) => {
      for (const entity of page) schemas.push(entity);
    });
    for (const schema of schemas) {
      const schemaObject = liveChild(databaseObject, 'schema', sourceName(schema.name));
      const schemaPath = [databaseObject.name, schemaObject.name];
      absorb(read, mapper, errors, service, schema, schemaObject, schemaPath);
      await client.listAll<CatalogEntity>(
        '/tables',
        { databaseSchema: schema.fullyQualifiedName, fields: `columns,${ownerField},tags` },
        `tables of schema ${schema.fullyQualifiedName}`,
        (page) => {
          for (const table of page) {
            const tableObject = liveChild(schemaObject, 'table', sourceName(table.name));
            const tablePath = [...schemaPath, tableObject.name];
            absorb(read, mapper, errors, service, table, tableObject, tablePath);
            for (const column of table.columns ?? []) absorbColumn(read, errors, service, table, column, liveChild(tableObject, 'column', sourceName(column.name)), [...tablePath, sourceName(column.name)]);
          }
        },
      );
    }
  }
  errors.throwIfAny();
  read.requests = client.requests - before;
  read.snapshot.queries = read.requests;
  return read;
}

/** The entity's change summary; undefined on servers that keep none (then `updatedBy` is all there is). */
function changeSummaryOf(entity: CatalogEntity): Record<string, ChangeSummaryEntry> | undefined {
  return entity.changeSummary ?? entity.changeDescription?.changeSummary;
}

function lastUpdate(entity: CatalogEntity): LastChange | undefined {
  return entity.updatedBy && entity.changeDescription ? { changedBy: entity.updatedBy, ...(entity.updatedAt !== undefined ? { changedAt: entity.updatedAt } : {}), inferred: true } : undefined;
}

function absorb(read: CatalogRead, mapper: OwnerMapper, errors: ErrorList, service: ServiceConfig, entity: CatalogEntity, object: LiveObject, path: string[]): void {
  const address = formatAddress(service.name, path);
  read.fqns.set(address, entity.fullyQualifiedName);
  object.description = entity.description || null;
  const references = entity.owners ?? (entity.owner ? [entity.owner] : []);
  const principals = references.map((reference) => mapper.principal(reference));
  const own = references.filter((reference) => !reference.inherited).map((reference) => mapper.principal(reference));
  if (own.length > 0) read.owners.set(address, own);
  // The owner the catalog shows, inherited or not, is what drift compares.
  object.owner = principals[0] === undefined ? null : mapper.toSource(principals[0]);
  object.tags = tagsOf(entity.tags ?? [], address, errors);
  const summary = changeSummaryOf(entity);
  const fallback = summary ? undefined : lastUpdate(entity);
  for (const [field, property] of [['description', 'description'], ['owners', 'owner'], ['owner', 'owner'], ['tags', 'tags']] as const) {
    const entry = summary ? summary[field] : fallback;
    if (entry) read.lastChange.set(`${address}#${property}`, entry);
  }
}

function absorbColumn(read: CatalogRead, errors: ErrorList, service: ServiceConfig, table: CatalogEntity, column: CatalogColumn, object: LiveObject, path: string[]): void {
  const address = formatAddress(service.name, path);
  read.fqns.set(address, column.fullyQualifiedName ?? buildFqn([...splitFqn(table.fullyQualifiedName), column.name]));
  object.description = column.description || null;
  object.tags = tagsOf(column.tags ?? [], address, errors);
  const summary = changeSummaryOf(table);
  const fallback = summary ? undefined : lastUpdate(table);
  for (const property of ['description', 'tags'] as const) {
    const entry = summary ? summary[buildFqn(['columns', column.name, property])] : fallback;
    if (entry) read.lastChange.set(`${address}#${property}`, entry);
  }
}

function tagsOf(labels: TagLabel[], address: string, errors: ErrorList): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const label of labels) {
    if (!isManagedLabel(label)) continue;
    const { key, value } = tagKeyValue(label.tagFQN);
    const existing = tags[key];
    if (existing !== undefined && existing !== value) {
      errors.add(
        `ambiguous tag ${key} on ${address}: the catalog has "${existing}" and "${value}"`,
        undefined,
        `a source tag key holds one value: remove ${key}.${existing} or ${key}.${value} from the asset in OpenMetadata`,
      );
      continue;
    }
    tags[key] = value;
  }
  return tags;
}
