/**
 * Reads one database service of the catalog in bulk (databases, schemas, then the tables of each
 * schema with columns, tags and owners, in pages of up to 1,000: no request per table or column)
 * and maps it onto metaform's objects: names as the source has them (the connectors'
 * `__reserved__` replacements reverted), owners in source terms through `owners.map`, tags as
 * classification -> key and tag (its path below the classification, for nested tags) -> value
 * from manually applied, confirmed classification labels only.
 */
import type { ServiceConfig } from '../connectors/types.js';
import { MetaformError } from '../core/errors.js';
import { formatAddress, liveChild, newLiveObject, type CatalogSnapshot, type Level, type LiveObject } from '../core/model.js';
import type { CatalogColumn, CatalogEntity, CatalogUser, ChangeSummaryEntry, EntityCollection, EntityReference, OpenMetadataClient, TagLabel } from './client.js';
import { buildFqn, fqnSegment, sourceName, splitFqn, type FqnQuoting } from './fqn.js';

export const COLLECTION_OF: Record<Exclude<Level, 'column'>, EntityCollection> = { database: 'databases', schema: 'databaseSchemas', table: 'tables' };

/** Who changed a property last, as the catalog's change summary says. */
export interface LastChange {
  changeSource?: string;
  changedBy?: string;
  changedAt?: number;
  /** True when this is the entity's last updater, not that field's (the reports say so). */
  inferred?: boolean;
}

/** Where an address's values live in the catalog: the entity (a column's table) and the change-description field prefix. */
export interface CatalogLocation {
  collection: EntityCollection;
  id: string;
  /** `''` for the entity's own fields; `columns.<name>.` (the name quoted as an FQN part) for a column's. */
  fieldPrefix: string;
  /** The column's name, for a column. */
  column?: string;
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
  /**
   * `<address>#description`, `<address>#owner`, `<address>#tags` -> the last change of that
   * field, from the change summary. Only the fields a repository registers with its
   * ChangeSummarizer have one (tables: description, owners, columns.description; older servers:
   * the descriptions; databases and schemas: none; tags: never): the others are absent here, and
   * their author is read from the entity's version history when needed.
   */
  lastChange: Map<string, LastChange>;
  /** Address -> the entity holding its values (for the version history). */
  locations: Map<string, CatalogLocation>;
  /**
   * Address -> key -> the values of a non-exclusive classification that has several managed
   * labels on that one asset: a source key holds one value, so that key is left out of the
   * snapshot and reported, and the rest of the service is read as usual.
   */
  ambiguous: Map<string, Map<string, string[]>>;
  /** HTTP requests the read made. */
  requests: number;
}

export interface ReadCatalogOptions {
  /** Only these databases (catalog names as the source has them). */
  databases?: string[];
}

/**
 * Manually applied, confirmed classification labels are the ones metaform manages. A Manual
 * label in state Suggested is a proposal awaiting review, and `Generated` (newer tagLabel.json),
 * Automated, Propagated and Derived labels are the server's or a tool's: all left alone.
 */
export function isManagedLabel(label: TagLabel): boolean {
  return label.source === 'Classification' && label.labelType === 'Manual' && label.state !== 'Suggested';
}

/**
 * Classification -> key; the tag -> value: its names below the classification joined by `.`. A
 * child tag's FQN is its parent's FQN, a dot and its quoted name (Tag FQNs are built with
 * FullyQualifiedName.add(parent, name)), so `PII.Sensitive.Email` is value `Sensitive.Email`
 * of key PII, and a tag named `v1.2` directly below `Data` (`Data."v1.2"`) is value `v1.2`.
 */
export function tagKeyValue(tagFQN: string): { key: string; value: string } {
  const [key = '', ...rest] = splitFqn(tagFQN);
  return { key, value: rest.join('.') };
}

/**
 * The FQNs value `value` of key `key` may stand for, the nested tag first: `Sensitive.Email` is
 * the child `Email` of tag `Sensitive`, or a tag named `Sensitive.Email`; without a dot, one.
 */
export function tagFqnCandidates(key: string, value: string, quoting: FqnQuoting = 'doubled'): string[] {
  const nested = buildFqn([key, ...value.split('.')], quoting);
  const flat = buildFqn([key, value], quoting);
  return nested === flat ? [flat] : [nested, flat];
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
    await client.request('GET', `/services/databaseServices/name/${fqnSegment(buildFqn([service.name], client.server.fqnQuoting))}`, { about: `database service ${service.name}` });
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
    locations: new Map(),
    ambiguous: new Map(),
    requests: 0,
  };
  const quoting = client.server.fqnQuoting;
  const wanted = options.databases ?? service.databases;

  const databases: CatalogEntity[] = [];
  await client.listAll<CatalogEntity>('/databases', { service: service.name, fields: `${ownerField},tags` }, `databases of service ${service.name}`, (page) => {
    for (const entity of page) if (!wanted || wanted.includes(sourceName(entity.name))) databases.push(entity);
  });
  for (const database of databases) {
    const databaseObject = newLiveObject('database', sourceName(database.name));
    read.snapshot.databases.set(databaseObject.name, databaseObject);
    absorb(read, mapper, service, 'databases', database, databaseObject, [databaseObject.name]);
    const schemas: CatalogEntity[] = [];
    await client.listAll<CatalogEntity>('/databaseSchemas', { database: database.fullyQualifiedName, fields: `${ownerField},tags` }, `schemas of database ${database.fullyQualifiedName}`, (page) => {
      for (const entity of page) schemas.push(entity);
    });
    for (const schema of schemas) {
      const schemaObject = liveChild(databaseObject, 'schema', sourceName(schema.name));
      const schemaPath = [databaseObject.name, schemaObject.name];
      absorb(read, mapper, service, 'databaseSchemas', schema, schemaObject, schemaPath);
      await client.listAll<CatalogEntity>(
        '/tables',
        { databaseSchema: schema.fullyQualifiedName, fields: `columns,${ownerField},tags` },
        `tables of schema ${schema.fullyQualifiedName}`,
        (page) => {
          for (const table of page) {
            const tableObject = liveChild(schemaObject, 'table', sourceName(table.name));
            const tablePath = [...schemaPath, tableObject.name];
            absorb(read, mapper, service, 'tables', table, tableObject, tablePath);
            for (const column of table.columns ?? []) absorbColumn(read, service, quoting, table, column, liveChild(tableObject, 'column', sourceName(column.name)), [...tablePath, sourceName(column.name)]);
          }
        },
      );
    }
  }
  read.requests = client.requests - before;
  read.snapshot.queries = read.requests;
  return read;
}

/** The entity's change summary (a map, possibly empty, on every changed entity of newer servers); undefined on servers that keep none. */
function changeSummaryOf(entity: CatalogEntity): Record<string, ChangeSummaryEntry> | undefined {
  return entity.changeSummary ?? entity.changeDescription?.changeSummary;
}

function absorb(read: CatalogRead, mapper: OwnerMapper, service: ServiceConfig, collection: EntityCollection, entity: CatalogEntity, object: LiveObject, path: string[]): void {
  const address = formatAddress(service.name, path);
  read.fqns.set(address, entity.fullyQualifiedName);
  read.locations.set(address, { collection, id: entity.id, fieldPrefix: '' });
  object.description = entity.description || null;
  const references = entity.owners ?? (entity.owner ? [entity.owner] : []);
  // Inherited owners are the container's, computed on every read (TableRepository /
  // DatabaseSchemaRepository setInheritedFields) and removed by no PATCH: an entity's own
  // owners are what YAML, drift and push compare.
  const own = references.filter((reference) => !reference.inherited).map((reference) => mapper.principal(reference));
  if (own.length > 0) read.owners.set(address, own);
  object.owner = own[0] === undefined ? null : mapper.toSource(own[0]);
  object.tags = tagsOf(entity.tags ?? [], address, read);
  const summary = changeSummaryOf(entity) ?? {};
  for (const [field, property] of [['description', 'description'], ['owners', 'owner'], ['owner', 'owner'], ['tags', 'tags']] as const) {
    const entry = summary[field];
    if (entry) read.lastChange.set(`${address}#${property}`, entry);
  }
}

function absorbColumn(read: CatalogRead, service: ServiceConfig, quoting: FqnQuoting, table: CatalogEntity, column: CatalogColumn, object: LiveObject, path: string[]): void {
  const address = formatAddress(service.name, path);
  read.fqns.set(address, column.fullyQualifiedName ?? buildFqn([...splitFqn(table.fullyQualifiedName), column.name], quoting));
  // Column fields are named FullyQualifiedName.build("columns", name, field) (EntityUtil.getColumnField).
  read.locations.set(address, { collection: 'tables', id: table.id, fieldPrefix: `${buildFqn(['columns', column.name], quoting)}.`, column: column.name });
  object.description = column.description || null;
  object.tags = tagsOf(column.tags ?? [], address, read);
  const summary = changeSummaryOf(table) ?? {};
  for (const property of ['description', 'tags'] as const) {
    const entry = summary[buildFqn(['columns', column.name, property], quoting)];
    if (entry) read.lastChange.set(`${address}#${property}`, entry);
  }
}

function tagsOf(labels: TagLabel[], address: string, read: CatalogRead): Record<string, string> {
  const tags: Record<string, string> = {};
  const values = new Map<string, string[]>();
  for (const label of labels) {
    if (!isManagedLabel(label)) continue;
    const { key, value } = tagKeyValue(label.tagFQN);
    const list = values.get(key);
    if (list) {
      if (!list.includes(value)) list.push(value);
    } else values.set(key, [value]);
  }
  for (const [key, list] of values) {
    if (list.length === 1) tags[key] = list[0] as string;
    else {
      let keys = read.ambiguous.get(address);
      if (!keys) read.ambiguous.set(address, (keys = new Map()));
      keys.set(key, list);
    }
  }
  return tags;
}

/** The message for an ambiguous key, with the fix. */
export function ambiguousTagMessage(address: string, key: string, values: readonly string[]): { message: string; hint: string } {
  return {
    message: `ambiguous tag ${key} on ${address}: the catalog has ${values.map((value) => `"${value}"`).join(' and ')}`,
    hint: `a source tag key holds one value: keep one of ${values.map((value) => `${key}.${value}`).join(', ')} on the asset in OpenMetadata`,
  };
}
