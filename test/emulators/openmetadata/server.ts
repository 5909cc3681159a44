/**
 * An OpenMetadata REST emulator: the endpoints metaform uses, over real HTTP, with an in-memory
 * catalog. Request bodies are checked against OpenMetadata's JSON shapes (EntityReference,
 * TagLabel, CreateClassification, CreateTag, UpdateColumn: unknown fields rejected, required
 * fields enforced), the owner shape follows the server version (`owner` before 1.5, `owners`
 * from 1.5), and PATCH honours If-Match (412 on a stale validator) when ETags are on. It models,
 * each beside the server file it comes from: Java's ETag formatting and version steps, change
 * summaries for registered fields only, the version history, mutually exclusive classifications
 * (PII and Tier seeded), nested tags, the server's label merge, the 500 of a failed `test` on
 * older servers, inherited owners computed on read, and the FQN rules of its version.
 * Its responses validate against the vendored JSON Schemas (test/emulators/openmetadata/schemas).
 * Imports nothing from src/.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { addToFqn, buildFqnIn, splitFqn, type FqnStyle } from './fqn.js';

export type EntityType = 'database' | 'databaseSchema' | 'table';
type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export interface EntityReference {
  id: string;
  type: string;
  name?: string;
  fullyQualifiedName?: string;
  displayName?: string;
  description?: string;
  deleted?: boolean;
  inherited?: boolean;
  href?: string;
}

export interface TagLabel {
  tagFQN: string;
  source: 'Classification' | 'Glossary';
  labelType: 'Manual' | 'Propagated' | 'Automated' | 'Derived' | 'Generated';
  state: 'Suggested' | 'Confirmed';
  description?: string;
  href?: string;
  name?: string;
  displayName?: string;
}

export interface Column {
  name: string;
  dataType: string;
  fullyQualifiedName: string;
  description?: string;
  tags: TagLabel[];
  ordinalPosition?: number;
}

interface ChangeSummaryEntry {
  changeSource: string;
  changedBy: string;
  changedAt: number;
}

export interface Entity {
  id: string;
  name: string;
  fullyQualifiedName: string;
  description?: string;
  owners: EntityReference[];
  tags: TagLabel[];
  columns?: Column[];
  version: number;
  updatedAt: number;
  updatedBy: string;
  changeDescription?: JsonObject;
  changeSummary: Record<string, ChangeSummaryEntry>;
  parentId?: string;
  serviceName: string;
  /** Earlier versions as the server stored them (JSON of the entity), oldest first. */
  history: string[];
}

export interface Tag {
  id: string;
  name: string;
  fullyQualifiedName: string;
  description: string;
  classification: string;
  /** The parent tag's FQN, for a nested tag. */
  parent?: string;
  mutuallyExclusive: boolean;
}

export interface User {
  id: string;
  name: string;
  email: string;
  isBot: boolean;
}

export interface EmulatorOptions {
  /** Server version reported by /api/v1/system/version (decides the owner shape). */
  version?: string;
  /** Whether GET returns ETags and PATCH checks If-Match. */
  etag?: boolean;
  /**
   * Reproduce OpenMetadata issue #28876 (fixed by PR #28837): a PATCH sent with If-Match answers
   * 200 but drops the nested column description and tag changes.
   */
  dropColumnChangesOnIfMatch?: boolean;
  /**
   * Which change summaries the server writes: `true` the current registrations (TableRepository:
   * description, owners, columns.description), `'descriptions'` older servers' (description,
   * columns.description: ChangeSummarizerTest), `false` none (servers before summaries).
   * Databases and schemas register none; tags are never summarised.
   */
  changeSummary?: boolean | 'descriptions';
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  ifMatch?: string;
  body?: string;
}

interface Injected {
  method: string;
  pathIncludes: string;
  status: number;
  times: number;
}

const COLLECTIONS: Record<string, EntityType> = { databases: 'database', databaseSchemas: 'databaseSchema', tables: 'table' };
const ENTITY_FIELDS: Record<EntityType, string[]> = {
  database: ['owners', 'databaseSchemas', 'usageSummary', 'location', 'tags', 'certification', 'extension', 'domain', 'sourceHash', 'followers'],
  databaseSchema: ['owners', 'tables', 'usageSummary', 'tags', 'certification', 'extension', 'domain', 'sourceHash', 'followers'],
  table: ['tableConstraints', 'tablePartition', 'usageSummary', 'owners', 'customMetrics', 'columns', 'sampleData', 'tags', 'followers', 'joins', 'schemaDefinition', 'dataModel', 'extension', 'testSuite', 'domain', 'dataProducts', 'lifeCycle', 'sourceHash'],
};
/** Top-level properties a PATCH may leave on an entity (the entity schema's; others are 400). */
const PATCHABLE = new Set(['id', 'name', 'fullyQualifiedName', 'displayName', 'description', 'owners', 'owner', 'tags', 'columns', 'version', 'updatedAt', 'updatedBy', 'href', 'changeDescription', 'deleted', 'service', 'serviceType', 'database', 'databaseSchema', 'tableType', 'extension', 'changeSummary']);
const ALL_FIELDS = new Set(['tags', 'owners', 'columns']);
const COLUMN_KEYS = new Set(['name', 'dataType', 'dataTypeDisplay', 'dataLength', 'displayName', 'fullyQualifiedName', 'description', 'tags', 'ordinalPosition', 'constraint', 'children', 'arrayDataType', 'precision', 'scale']);
/** Fields each repository registers with its ChangeSummarizer (jdbi3/ChangeSummarizer.java and the repositories). */
const SUMMARISED: Record<'current' | 'descriptions', Record<EntityType, string[]>> = {
  current: { database: [], databaseSchema: [], table: ['description', 'owners', 'columns.description'] },
  descriptions: { database: [], databaseSchema: [], table: ['description', 'columns.description'] },
};
const TAG_LABEL_KEYS = new Set(['tagFQN', 'source', 'labelType', 'state', 'description', 'href', 'name', 'displayName', 'style', 'reason', 'appliedAt', 'appliedBy', 'metadata']);
const REFERENCE_KEYS = new Set(['id', 'type', 'name', 'fullyQualifiedName', 'description', 'displayName', 'deleted', 'inherited', 'href']);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class OpenMetadataEmulator {
  readonly entities = new Map<string, Entity & { type: EntityType }>();
  private readonly byFqn = new Map<string, string>();
  readonly users = new Map<string, User>();
  readonly teams = new Map<string, { id: string; name: string; teamType: string }>();
  readonly classifications = new Map<string, { id: string; name: string; description: string; mutuallyExclusive: boolean }>();
  readonly tags = new Map<string, Tag>();
  readonly services = new Map<string, { id: string; name: string }>();
  readonly events: JsonObject[] = [];
  readonly requests: RequestRecord[] = [];
  /** token -> user name. */
  readonly tokens = new Map<string, string>();
  private readonly injected: Injected[] = [];
  private pendingChange: (() => void) | undefined;
  private server?: Server;
  url = '';
  readonly version: string;
  readonly etag: boolean;
  readonly dropColumnChangesOnIfMatch: boolean;
  readonly changeSummary: boolean | 'descriptions';
  /** FQN quoting of this version: inner quotes doubled from PR #28697 (taken as 1.13.0), `\"` before. */
  readonly fqnStyle: FqnStyle;
  /** Whether a failed JSON Patch operation (a `test`, a missing path) is a 400 (PR #28316, taken as 1.13.0) or an unmapped 500. */
  readonly testFailureStatus: number;
  private clock = Date.UTC(2026, 0, 1);

  constructor(options: EmulatorOptions = {}) {
    this.version = options.version ?? '1.13.0';
    this.etag = options.etag ?? true;
    this.dropColumnChangesOnIfMatch = options.dropColumnChangesOnIfMatch ?? false;
    this.changeSummary = options.changeSummary ?? true;
    this.fqnStyle = this.atLeast(1, 13) ? 'doubled' : 'backslash';
    // Before PR #28316 (2026-05-21) CatalogGenericExceptionMapper did not map
    // jakarta.json.JsonException ("The JSON Patch operation 'test' failed"): a 500.
    this.testFailureStatus = this.atLeast(1, 13) ? 400 : 500;
    this.addUser('ingestion-bot', 'ingestion-bot@openmetadata.org', true);
    this.addUser('admin', 'admin@openmetadata.org', false);
    // Seed data every server ships (openmetadata-service json/data/tags/piiTags.json,
    // tierTags.json): both classifications are mutually exclusive.
    this.addClassification('PII', true);
    for (const tag of ['None', 'NonSensitive', 'Sensitive']) this.addTag('PII', tag);
    this.addClassification('Tier', true);
    for (const tag of ['Tier1', 'Tier2', 'Tier3', 'Tier4', 'Tier5']) this.addTag('Tier', tag);
  }

  private atLeast(major: number, minor: number): boolean {
    const [a = 0, b = 0] = this.version.split('.').map(Number);
    return a > major || (a === major && b >= minor);
  }

  get multiOwner(): boolean {
    return this.atLeast(1, 5);
  }

  /** An FQN built by this server's rules. */
  fqn(...parts: string[]): string {
    return buildFqnIn(this.fqnStyle, ...parts);
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Runs `change` (another writer, say) just before the next PATCH is applied. */
  beforeNextPatch(change: () => void): void {
    this.pendingChange = change;
  }

  /** The next `times` requests matching method and path part answer `status`. */
  failNext(method: string, pathIncludes: string, status: number, times = 1): void {
    this.injected.push({ method, pathIncludes, status, times });
  }

  // ---- seeding, as an ingestion would -------------------------------------------------------

  addUser(name: string, email: string, isBot = false, token?: string): User {
    const user = { id: randomUUID(), name, email, isBot };
    this.users.set(name, user);
    if (token) this.tokens.set(token, name);
    return user;
  }

  addTeam(name: string, teamType = 'Group'): void {
    this.teams.set(name, { id: randomUUID(), name, teamType });
  }

  addClassification(name: string, mutuallyExclusive = false): void {
    const existing = this.classifications.get(name);
    if (existing) existing.mutuallyExclusive = mutuallyExclusive;
    else this.classifications.set(name, { id: randomUUID(), name, description: name, mutuallyExclusive });
  }

  /**
   * A tag of a classification, or below `parent` (a tag FQN) for a nested one: a child tag's FQN
   * is its parent's FQN, a dot and its quoted name (TagRepository.setFullyQualifiedName,
   * FullyQualifiedName.add).
   */
  addTag(classification: string, tag: string, options: { parent?: string; mutuallyExclusive?: boolean } = {}): Tag {
    if (!this.classifications.has(classification)) this.addClassification(classification);
    const fqn = options.parent ? addToFqn(options.parent, tag, this.fqnStyle) : this.fqn(classification, tag);
    const existing = this.tags.get(fqn);
    if (existing) return existing;
    const created: Tag = { id: randomUUID(), name: tag, fullyQualifiedName: fqn, description: tag, classification, ...(options.parent ? { parent: options.parent } : {}), mutuallyExclusive: options.mutuallyExclusive ?? false };
    this.tags.set(fqn, created);
    return created;
  }

  addService(name: string): void {
    this.services.set(name, { id: randomUUID(), name });
  }

  /** An entity as an ingestion creates it; `parentFqn` is the service name or the parent's FQN as this server writes it. */
  addEntity(type: EntityType, parentFqn: string, name: string, fields: { description?: string; columns?: { name: string; description?: string; tags?: TagLabel[] }[]; tags?: TagLabel[]; owners?: string[] } = {}): Entity {
    const parent = this.byFqn.get(parentFqn);
    const serviceName = parent ? (this.entities.get(parent)?.serviceName as string) : type === 'database' ? parentFqn : (splitFqn(parentFqn)[0] as string);
    if (!this.services.has(serviceName)) this.addService(serviceName);
    const fqn = addToFqn(parent ? parentFqn : this.fqn(serviceName), name, this.fqnStyle);
    const entity: Entity & { type: EntityType } = {
      type,
      id: randomUUID(),
      name,
      fullyQualifiedName: fqn,
      ...(fields.description !== undefined ? { description: fields.description } : {}),
      owners: (fields.owners ?? []).map((owner) => this.reference(owner)),
      tags: fields.tags ?? [],
      version: 0.1,
      updatedAt: this.tick(),
      updatedBy: 'ingestion-bot',
      changeSummary: {},
      serviceName,
      history: [],
      ...(parent ? { parentId: parent } : {}),
    };
    if (type === 'table')
      entity.columns = (fields.columns ?? []).map((column, i) => ({
        name: column.name,
        dataType: 'VARCHAR',
        fullyQualifiedName: addToFqn(fqn, column.name, this.fqnStyle),
        ...(column.description !== undefined ? { description: column.description } : {}),
        tags: column.tags ?? [],
        ordinalPosition: i + 1,
      }));
    this.entities.set(entity.id, entity);
    this.byFqn.set(fqn, entity.id);
    return entity;
  }

  /**
   * An ingestion that finds a column gone: a backward-incompatible change, so the version moves
   * by 1.0 (EntityUtil.nextMajorVersion; minor changes move by 0.1, EntityUtil.nextVersion).
   */
  dropColumn(tableFqn: string, column: string): void {
    const table = this.entity(tableFqn);
    if (!table?.columns) throw new Error(`no table ${tableFqn}`);
    const previous = table.columns.find((candidate) => candidate.name === column);
    table.history.push(JSON.stringify(this.render(table, ALL_FIELDS)));
    table.columns = table.columns.filter((candidate) => candidate !== previous);
    const previousVersion = table.version;
    table.version = Math.round((table.version + 1) * 10) / 10;
    table.updatedAt = this.tick();
    table.updatedBy = 'ingestion-bot';
    table.changeDescription = { fieldsAdded: [], fieldsUpdated: [], fieldsDeleted: [{ name: 'columns', oldValue: JSON.stringify([previous]) }], previousVersion };
  }

  entity(fqn: string): (Entity & { type: EntityType }) | undefined {
    const id = this.byFqn.get(fqn);
    return id ? this.entities.get(id) : undefined;
  }

  private reference(name: string): EntityReference {
    const user = this.users.get(name);
    if (user) return { id: user.id, type: 'user', name: user.name, fullyQualifiedName: user.name };
    const team = this.teams.get(name);
    if (team) return { id: team.id, type: 'team', name: team.name, fullyQualifiedName: team.name };
    throw new Error(`no user or team ${name}`);
  }

  private tick(): number {
    this.clock += 1000;
    return this.clock;
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://emulator');
    const method = req.method ?? 'GET';
    const record: RequestRecord = { method, path: `${url.pathname}${url.search}`, status: 200, ...(body ? { body } : {}) };
    const ifMatch = req.headers['if-match'];
    if (typeof ifMatch === 'string') record.ifMatch = ifMatch;
    this.requests.push(record);
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(payload));
    };
    try {
      const injected = this.injected.find((rule) => rule.method === method && record.path.includes(rule.pathIncludes) && rule.times > 0);
      if (injected) {
        injected.times--;
        throw new HttpError(injected.status, `injected failure ${injected.status}`);
      }
      const auth = req.headers.authorization ?? '';
      const token = /^Bearer (.+)$/.exec(auth)?.[1];
      const user = token ? this.tokens.get(token) : undefined;
      if (!user) throw new HttpError(401, 'Not Authorized! Token not present or invalid');
      const result = this.route(method, url, body, user, typeof ifMatch === 'string' ? ifMatch : undefined);
      send(result.status ?? 200, result.body, result.headers);
    } catch (error) {
      if (error instanceof HttpError) send(error.status, { code: error.status, message: error.message });
      else send(500, { code: 500, message: error instanceof Error ? error.message : String(error) });
    }
  }

  /** The raw path segments after /api/v1, each percent-decoded once. */
  private segments(url: URL): string[] {
    const raw = url.pathname.replace(/^\/api\/v1\/?/, '');
    return raw.split('/').map((segment) => decodeURIComponent(segment));
  }

  private route(method: string, url: URL, body: string, user: string, ifMatch: string | undefined): { status?: number; body: unknown; headers?: Record<string, string> } {
    if (!url.pathname.startsWith('/api/v1/')) throw new HttpError(404, 'HTTP 404 Not Found');
    const [collection, a, b, c] = this.segments(url);
    const query = url.searchParams;
    if (collection === 'system' && a === 'version' && method === 'GET') return { body: { version: this.version, revision: 'emulator', timestamp: 0 } };
    if (collection === 'services' && a === 'databaseServices' && b === 'name' && c !== undefined) {
      const service = [...this.services.values()].find((candidate) => this.fqn(candidate.name) === c);
      if (!service) throw new HttpError(404, `databaseService instance for ${c} not found`);
      return { body: { id: service.id, name: service.name, fullyQualifiedName: this.fqn(service.name), serviceType: 'Postgres' } };
    }
    if (collection && collection in COLLECTIONS) {
      const type = COLLECTIONS[collection] as EntityType;
      if (method === 'GET' && a === undefined) return { body: this.list(type, query) };
      if (method === 'GET' && a === 'name' && b !== undefined && c === undefined) return this.getOne(type, this.findByFqn(type, b), query);
      if (method === 'GET' && a !== undefined && b === 'versions') return { body: this.versions(type, this.findById(type, a)) };
      if (method === 'GET' && a !== undefined && b === undefined) return this.getOne(type, this.findById(type, a), query);
      if (method === 'PATCH' && a !== undefined) {
        const entity = a === 'name' && b !== undefined ? this.findByFqn(type, b) : this.findById(type, a);
        return this.patch(entity, body, user, ifMatch, query.get('changeSource') ?? 'Manual');
      }
    }
    if (collection === 'columns' && a === 'name' && b !== undefined && method === 'PUT') return { body: this.updateColumn(b, body, user) };
    if (collection === 'users') {
      if (method === 'GET' && a === undefined) return { body: page([...this.users.values()].map(userJson), query) };
      if (method === 'GET' && a === 'name' && b !== undefined) return { body: userJson(this.users.get(b) ?? notFound('user', b)) };
    }
    if (collection === 'teams') {
      if (method === 'GET' && a === undefined) return { body: page([...this.teams.values()].map(teamJson), query) };
      if (method === 'GET' && a === 'name' && b !== undefined) return { body: teamJson(this.teams.get(b) ?? notFound('team', b)) };
    }
    if (collection === 'classifications') {
      if (method === 'GET' && a === undefined) return { body: page([...this.classifications.values()].map((item) => this.classificationJson(item)), query) };
      if (method === 'GET' && a === 'name' && b !== undefined) return { body: this.classificationJson(this.classifications.get(b) ?? notFound('classification', b)) };
      if (method === 'POST' && a === undefined) return { status: 201, body: this.classificationJson(this.createClassification(parseJson(body))) };
    }
    if (collection === 'tags') {
      if (method === 'GET' && a === undefined) {
        const parent = query.get('parent');
        return { body: page([...this.tags.values()].filter((tag) => !parent || tag.classification === parent).map((tag) => this.tagJson(tag)), query) };
      }
      if (method === 'GET' && a === 'name' && b !== undefined) return { body: this.tagJson(this.tags.get(b) ?? notFound('tag', b)) };
      if (method === 'POST' && a === undefined) return { status: 201, body: this.tagJson(this.createTag(parseJson(body))) };
    }
    if (collection === 'events' && method === 'GET') {
      const timestamp = query.get('timestamp');
      if (timestamp === null) throw new HttpError(400, '[query param timestamp must not be null]');
      const wanted = (query.get('entityUpdated') ?? '').split(',');
      return { body: { data: this.events.filter((event) => (event['timestamp'] as number) >= Number(timestamp) && (wanted.includes('*') || wanted.includes(event['entityType'] as string))) } };
    }
    throw new HttpError(404, `HTTP 404 Not Found: ${method} ${url.pathname}`);
  }

  /**
   * By name: the server hashes each part of FullyQualifiedName.split(fqn), so the FQN must be
   * written by the server's rules (current servers parse it first and refuse what their
   * grammar does not take; older ones are taken as written).
   */
  private findByFqn(type: EntityType, fqn: string): Entity & { type: EntityType } {
    let canonical = fqn;
    if (this.fqnStyle === 'doubled') {
      try {
        canonical = this.fqn(...splitFqn(fqn));
      } catch {
        throw new HttpError(404, `${type} instance for ${fqn} not found`);
      }
    }
    const entity = this.entity(canonical);
    if (!entity || entity.type !== type) throw new HttpError(404, `${type} instance for ${fqn} not found`);
    return entity;
  }

  private findById(type: EntityType, id: string): Entity & { type: EntityType } {
    const entity = this.entities.get(id);
    if (!entity || entity.type !== type) throw new HttpError(404, `${type} instance for ${id} not found`);
    return entity;
  }

  private fields(type: EntityType, query: URLSearchParams): Set<string> {
    const fields = new Set((query.get('fields') ?? '').split(',').map((field) => field.trim()).filter(Boolean));
    const allowed = ENTITY_FIELDS[type].map((field) => (field === 'owners' && !this.multiOwner ? 'owner' : field));
    for (const field of fields) if (!allowed.includes(field)) throw new HttpError(400, `Invalid field name ${field}`);
    return fields;
  }

  private list(type: EntityType, query: URLSearchParams): JsonObject {
    const fields = this.fields(type, query);
    const parentKey = type === 'database' ? 'service' : type === 'databaseSchema' ? 'database' : 'databaseSchema';
    const parent = query.get(parentKey);
    if (query.get('before') && query.get('after')) throw new HttpError(400, 'Only one of before or after query parameter allowed');
    const matching: Entity[] = [];
    for (const entity of this.entities.values()) {
      if (entity.type !== type) continue;
      if (type === 'database' ? parent && entity.serviceName !== parent : parent && this.entities.get(entity.parentId ?? '')?.fullyQualifiedName !== parent) continue;
      matching.push(entity);
    }
    return page(
      matching.map((entity) => this.render(entity, fields)),
      query,
    );
  }

  /** EntityETag.generateWeakETag: `W/"` + Java's Double.toString(version) (`1.0`, not `1`) + `"`. */
  private weakETagOf(entity: Entity): string {
    return `W/"${Number.isInteger(entity.version) ? entity.version.toFixed(1) : String(entity.version)}"`;
  }

  private etagOf(entity: Entity): string {
    return `"${createHash('sha256').update(`${entity.id}${entity.version}${entity.updatedAt}`).digest('hex').slice(0, 16)}"`;
  }

  private getOne(type: EntityType, entity: Entity, query: URLSearchParams): { body: unknown; headers?: Record<string, string> } {
    const body = this.render(entity, this.fields(type, query));
    return this.etag ? { body, headers: { etag: this.etagOf(entity) } } : { body };
  }

  /** An EntityReference to an entity (or the service), as the schemas' `service`, `database`, `databaseSchema`. */
  private ref(type: string, id: string, name: string, fqn: string): JsonObject {
    return { id, type, name, fullyQualifiedName: fqn, deleted: false };
  }

  /**
   * Owners as a read shows them: the entity's own, else its container's marked inherited,
   * computed on every read (TableRepository / DatabaseSchemaRepository setInheritedFields).
   */
  private effectiveOwners(entity: Entity): EntityReference[] {
    if (entity.owners.length > 0) return entity.owners;
    const parent = entity.parentId ? this.entities.get(entity.parentId) : undefined;
    return parent ? this.effectiveOwners(parent).map((owner) => ({ ...owner, inherited: true })) : [];
  }

  private render(entity: Entity & { type?: EntityType }, fields: Set<string>): JsonObject {
    const out: JsonObject = {
      id: entity.id,
      name: entity.name,
      fullyQualifiedName: entity.fullyQualifiedName,
      version: entity.version,
      updatedAt: entity.updatedAt,
      updatedBy: entity.updatedBy,
      href: `${this.url}/api/v1/x/${entity.id}`,
      deleted: false,
    };
    const service = this.services.get(entity.serviceName);
    if (service) {
      out['service'] = this.ref('databaseService', service.id, service.name, this.fqn(service.name));
      out['serviceType'] = 'Postgres';
    }
    const chain: (Entity & { type: EntityType })[] = [];
    for (let at = entity.parentId ? this.entities.get(entity.parentId) : undefined; at; at = at.parentId ? this.entities.get(at.parentId) : undefined) chain.push(at);
    for (const container of chain) out[container.type] = this.ref(container.type, container.id, container.name, container.fullyQualifiedName);
    if (entity.type === 'table') out['tableType'] = 'Regular';
    if (entity.description !== undefined) out['description'] = entity.description;
    if (entity.changeDescription) out['changeDescription'] = this.changeSummary ? { ...entity.changeDescription, changeSummary: entity.changeSummary as unknown as Json } : entity.changeDescription;
    if (fields.has('tags')) out['tags'] = entity.tags as unknown as Json;
    if (fields.has('owners')) out['owners'] = this.effectiveOwners(entity) as unknown as Json;
    const owner = this.effectiveOwners(entity)[0];
    if (fields.has('owner') && owner) out['owner'] = owner as unknown as Json;
    if (fields.has('columns') && entity.columns)
      out['columns'] = entity.columns.map((column) => {
        const rendered: JsonObject = { name: column.name, dataType: column.dataType, fullyQualifiedName: column.fullyQualifiedName, tags: (fields.has('tags') ? column.tags : []) as unknown as Json };
        if (column.description !== undefined) rendered['description'] = column.description;
        if (column.ordinalPosition !== undefined) rendered['ordinalPosition'] = column.ordinalPosition;
        return rendered;
      });
    return out;
  }

  /** EntityResource.listVersions: EntityHistory {entityType, versions: [entity JSON strings]}, latest first. */
  private versions(type: EntityType, entity: Entity): JsonObject {
    const current = JSON.stringify(this.render(entity, ALL_FIELDS));
    return { entityType: type, versions: [current, ...[...entity.history].reverse()] };
  }

  private tagJson(tag: Tag): JsonObject {
    const classification = this.classifications.get(tag.classification);
    const parent = tag.parent ? this.tags.get(tag.parent) : undefined;
    return {
      id: tag.id,
      name: tag.name,
      fullyQualifiedName: tag.fullyQualifiedName,
      description: tag.description,
      mutuallyExclusive: tag.mutuallyExclusive,
      deleted: false,
      version: 0.1,
      updatedAt: this.clock,
      updatedBy: 'admin',
      ...(classification ? { classification: this.ref('classification', classification.id, classification.name, this.fqn(classification.name)) } : {}),
      ...(parent ? { parent: this.ref('tag', parent.id, parent.name, parent.fullyQualifiedName) } : {}),
    };
  }

  private classificationJson(classification: { id: string; name: string; description: string; mutuallyExclusive: boolean }): JsonObject {
    return { id: classification.id, name: classification.name, fullyQualifiedName: this.fqn(classification.name), description: classification.description, mutuallyExclusive: classification.mutuallyExclusive, deleted: false, version: 0.1, updatedAt: this.clock, updatedBy: 'admin' };
  }

  // ---- writes -------------------------------------------------------------------------------

  private patch(entity: Entity & { type: EntityType }, body: string, user: string, ifMatch: string | undefined, changeSource: string): { body: unknown; headers?: Record<string, string> } {
    if (this.etag && ifMatch !== undefined && ifMatch !== this.weakETagOf(entity) && ifMatch !== this.etagOf(entity))
      throw new HttpError(412, `Entity ${entity.fullyQualifiedName} was modified by another process. Please refresh and try again.`);
    const change = this.pendingChange;
    this.pendingChange = undefined;
    change?.();
    const operations = parseJson(body);
    if (!Array.isArray(operations)) throw new HttpError(400, 'A JSON Patch is an array of operations');
    const fields = new Set(['tags', this.multiOwner ? 'owners' : 'owner', ...(entity.type === 'table' ? ['columns'] : [])]);
    const document = JSON.parse(JSON.stringify(this.render(entity, fields))) as JsonObject;
    for (const operation of operations) applyOperation(document, operation, this.testFailureStatus);
    const next = this.validatePatched(entity, document);
    if (this.dropColumnChangesOnIfMatch && ifMatch !== undefined && entity.columns) next.columns = entity.columns;
    this.commit(entity, next, user, changeSource);
    return this.getOne(entity.type, entity, new URLSearchParams({ fields: [...fields].join(',') }));
  }

  private validatePatched(entity: Entity & { type: EntityType }, document: JsonObject): Pick<Entity, 'description' | 'owners' | 'tags' | 'columns'> {
    for (const key of Object.keys(document)) if (!PATCHABLE.has(key)) throw new HttpError(400, `Unrecognized field "${key}" (class ${entity.type}), not marked as ignorable`);
    if (document['id'] !== entity.id || document['name'] !== entity.name || document['fullyQualifiedName'] !== entity.fullyQualifiedName)
      throw new HttpError(400, 'Field id, name and fullyQualifiedName cannot be changed by a patch');
    if (this.multiOwner && 'owner' in document) throw new HttpError(400, `Unrecognized field "owner" (class ${entity.type}), not marked as ignorable`);
    if (!this.multiOwner && 'owners' in document) throw new HttpError(400, `Unrecognized field "owners" (class ${entity.type}), not marked as ignorable`);
    const description = document['description'];
    if (description !== undefined && description !== null && typeof description !== 'string') throw new HttpError(400, 'description must be a string');
    const ownersRaw = this.multiOwner ? (document['owners'] ?? []) : document['owner'] ? [document['owner']] : [];
    if (!Array.isArray(ownersRaw)) throw new HttpError(400, 'owners must be an array');
    // An inherited owner in the patched document is the container's, not set here (inferred from
    // setInheritedFields recomputing it on read): it is not stored as the entity's own.
    const owners = ownersRaw.filter((owner) => !(owner && typeof owner === 'object' && !Array.isArray(owner) && owner['inherited'] === true)).map((owner) => this.validateReference(owner));
    const teams = owners.filter((owner) => owner.type === 'team');
    if (teams.length > 0 && owners.length > 1) throw new HttpError(400, 'Multiple owners are allowed only for users; a team must be the only owner');
    const tags = this.validateTags(document['tags'] ?? [], entity.fullyQualifiedName);
    let columns: Column[] | undefined;
    if (entity.columns) {
      const raw = document['columns'];
      if (!Array.isArray(raw) || raw.length !== entity.columns.length) throw new HttpError(400, 'columns cannot be added or removed by this emulator');
      columns = raw.map((item, i) => {
        const column = item as JsonObject;
        const current = entity.columns?.[i] as Column;
        for (const key of Object.keys(column)) if (!COLUMN_KEYS.has(key)) throw new HttpError(400, `Unrecognized field "${key}" (class Column), not marked as ignorable`);
        if (column['name'] !== current.name) throw new HttpError(400, `column ${current.name} cannot be renamed or moved`);
        const columnDescription = column['description'];
        if (columnDescription !== undefined && columnDescription !== null && typeof columnDescription !== 'string') throw new HttpError(400, 'description must be a string');
        return {
          ...current,
          ...(typeof columnDescription === 'string' ? { description: columnDescription } : { description: undefined }),
          tags: this.validateTags(column['tags'] ?? [], current.fullyQualifiedName),
        } as Column;
      });
    }
    return { ...(typeof description === 'string' ? { description } : {}), owners, tags, ...(columns ? { columns } : {}) };
  }

  private validateReference(raw: Json): EntityReference {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new HttpError(400, 'an owner is an EntityReference object');
    for (const key of Object.keys(raw)) if (!REFERENCE_KEYS.has(key)) throw new HttpError(400, `Unrecognized field "${key}" (class EntityReference), not marked as ignorable`);
    const { id, type } = raw;
    if (typeof id !== 'string' || typeof type !== 'string') throw new HttpError(400, '[owners.id must not be null, owners.type must not be null]');
    const found = type === 'user' ? [...this.users.values()].find((user) => user.id === id) : type === 'team' ? [...this.teams.values()].find((team) => team.id === id) : undefined;
    if (!found) throw new HttpError(404, `${type} instance for ${id} not found`);
    if (type === 'team' && 'teamType' in found && found.teamType !== 'Group') throw new HttpError(400, `Team of type ${found.teamType} can't own entities. Only Team of type Group can own entities.`);
    return { id, type, name: found.name, fullyQualifiedName: found.name };
  }

  /**
   * TagLabels of a write: each checked against type/tagLabel.json, then merged as the server does
   * (TagLabelUtil.addDerivedTags -> EntityUtil.mergeTags: the first label of a tag FQN is kept,
   * a later one of the same FQN dropped without a word), then TagLabelUtil.checkMutuallyExclusive:
   * two labels under one mutually exclusive parent (a classification, or a tag for its children)
   * are a 400.
   */
  private validateTags(raw: Json, asset: string): TagLabel[] {
    if (!Array.isArray(raw)) throw new HttpError(400, 'tags must be an array');
    const merged: TagLabel[] = [];
    for (const item of raw) {
      if (!item || typeof item !== 'object' || Array.isArray(item)) throw new HttpError(400, 'a tag is a TagLabel object');
      for (const key of Object.keys(item)) if (!TAG_LABEL_KEYS.has(key)) throw new HttpError(400, `Unrecognized field "${key}" (class TagLabel), not marked as ignorable`);
      const missing = ['tagFQN', 'source', 'labelType', 'state'].filter((key) => item[key] === undefined || item[key] === null);
      if (missing.length > 0) throw new HttpError(400, `[${missing.map((key) => `tags.${key} must not be null`).join(', ')}]`);
      const label = item as unknown as TagLabel;
      if (!['Classification', 'Glossary'].includes(label.source)) throw new HttpError(400, `tags.source must be Classification or Glossary, not ${label.source}`);
      if (!['Manual', 'Propagated', 'Automated', 'Derived', 'Generated'].includes(label.labelType)) throw new HttpError(400, `invalid labelType ${label.labelType}`);
      if (!['Suggested', 'Confirmed'].includes(label.state)) throw new HttpError(400, `invalid state ${label.state}`);
      if (typeof label.tagFQN !== 'string' || label.tagFQN.length > 128) throw new HttpError(400, 'tagFQN must be a string of at most 128 characters');
      if (label.source === 'Classification' && !this.tags.has(label.tagFQN)) throw new HttpError(404, `tag instance for ${label.tagFQN} not found`);
      if (!merged.some((kept) => kept.tagFQN === label.tagFQN && kept.source === label.source)) merged.push(label);
    }
    const byParent = new Map<string, TagLabel>();
    for (const label of merged) {
      if (label.source !== 'Classification') continue;
      const tag = this.tags.get(label.tagFQN) as Tag;
      const parent = tag.parent ?? `classification:${tag.classification}`;
      const stored = byParent.get(parent);
      byParent.set(parent, label);
      const exclusive = tag.parent ? this.tags.get(tag.parent)?.mutuallyExclusive === true : this.classifications.get(tag.classification)?.mutuallyExclusive === true;
      if (stored && exclusive) throw new HttpError(400, `Tag labels ${label.tagFQN} and ${stored.tagFQN} are mutually exclusive and can't be assigned together (${asset})`);
    }
    return merged;
  }

  private commit(entity: Entity & { type?: EntityType }, next: Pick<Entity, 'description' | 'owners' | 'tags' | 'columns'>, user: string, changeSource: string): void {
    const updated: JsonObject[] = [];
    const changedAt = this.tick();
    // Only the fields a repository registers get a summary entry (ChangeSummarizer.isFieldTracked,
    // `columns.description` matching `columns.<name>.description`); tags never do.
    const registered = this.changeSummary === false ? [] : SUMMARISED[this.changeSummary === true ? 'current' : 'descriptions'][entity.type ?? 'table'];
    const summaries: Record<string, ChangeSummaryEntry> = {};
    const note = (name: string, tracked: string, oldValue: unknown, newValue: unknown) => {
      if (JSON.stringify(oldValue) === JSON.stringify(newValue)) return;
      updated.push({ name, oldValue: JSON.stringify(oldValue ?? null), newValue: JSON.stringify(newValue ?? null) });
      if (registered.includes(tracked)) summaries[name] = { changeSource, changedBy: user, changedAt };
    };
    note('description', 'description', entity.description, next.description);
    note(this.multiOwner ? 'owners' : 'owner', 'owners', entity.owners.map((owner) => owner.id), next.owners.map((owner) => owner.id));
    note('tags', 'tags', entity.tags.map((tag) => tag.tagFQN), next.tags.map((tag) => tag.tagFQN));
    (next.columns ?? []).forEach((column, i) => {
      const before = entity.columns?.[i] as Column;
      // EntityUtil.getColumnField: FullyQualifiedName.build("columns", name, field).
      note(this.fqn('columns', column.name, 'description'), 'columns.description', before.description, column.description);
      note(this.fqn('columns', column.name, 'tags'), 'columns.tags', before.tags.map((tag) => tag.tagFQN), column.tags.map((tag) => tag.tagFQN));
    });
    if (updated.length === 0) return;
    entity.history.push(JSON.stringify(this.render(entity, ALL_FIELDS)));
    const previousVersion = entity.version;
    if (next.description === undefined) delete entity.description;
    else entity.description = next.description;
    entity.owners = next.owners;
    entity.tags = next.tags;
    if (next.columns) entity.columns = next.columns;
    entity.version = Math.round((entity.version + 0.1) * 10) / 10;
    entity.updatedAt = changedAt;
    entity.updatedBy = user;
    // Every change carries a summary map, empty when no registered field changed.
    Object.assign(entity.changeSummary, summaries);
    entity.changeDescription = { fieldsAdded: [], fieldsUpdated: updated, fieldsDeleted: [], previousVersion };
    this.events.push({
      id: randomUUID(),
      eventType: 'entityUpdated',
      entityType: entity.type ?? 'table',
      entityId: entity.id,
      entityFullyQualifiedName: entity.fullyQualifiedName,
      previousVersion,
      currentVersion: entity.version,
      userName: user,
      timestamp: changedAt,
      changeDescription: entity.changeDescription,
    });
  }

  private updateColumn(fqn: string, body: string, user: string): JsonObject {
    const parts = splitFqn(fqn);
    const table = this.entity(this.fqn(...parts.slice(0, -1)));
    const column = table?.columns?.find((candidate) => candidate.name === parts[parts.length - 1]);
    if (!table || !column) throw new HttpError(404, `column instance for ${fqn} not found`);
    const update = parseJson(body);
    if (!update || typeof update !== 'object' || Array.isArray(update)) throw new HttpError(400, 'UpdateColumn is an object');
    for (const key of Object.keys(update)) if (!['displayName', 'description', 'tags', 'constraint', 'removeConstraint'].includes(key)) throw new HttpError(400, `Unrecognized field "${key}" (class UpdateColumn), not marked as ignorable`);
    const columns = (table.columns ?? []).map((candidate) => (candidate === column ? { ...candidate, ...(typeof update['description'] === 'string' ? { description: update['description'] } : {}), ...(update['tags'] !== undefined ? { tags: this.validateTags(update['tags'], fqn) } : {}) } : candidate));
    this.commit(table, { ...(table.description !== undefined ? { description: table.description } : {}), owners: table.owners, tags: table.tags, columns }, user, 'Manual');
    return this.render(table, new Set(['columns', 'tags'])).columns as unknown as JsonObject;
  }

  private createClassification(raw: Json): { id: string; name: string; description: string; mutuallyExclusive: boolean } {
    const body = requireObject(raw, 'CreateClassification', ['name', 'description', 'displayName', 'provider', 'mutuallyExclusive', 'domain', 'owners']);
    if (typeof body['name'] !== 'string' || typeof body['description'] !== 'string') throw new HttpError(400, '[name must not be null, description must not be null]');
    if (this.classifications.has(body['name'])) throw new HttpError(409, `Entity already exists`);
    const created = { id: randomUUID(), name: body['name'], description: body['description'], mutuallyExclusive: body['mutuallyExclusive'] === true };
    this.classifications.set(created.name, created);
    return created;
  }

  /** CreateTag: `parent` (a tag FQN) makes a nested tag (api/classification/createTag.json). */
  private createTag(raw: Json): Tag {
    const body = requireObject(raw, 'CreateTag', ['name', 'description', 'classification', 'parent', 'displayName', 'style', 'associatedTags', 'provider', 'mutuallyExclusive', 'domains', 'owners']);
    if (typeof body['name'] !== 'string' || typeof body['description'] !== 'string') throw new HttpError(400, '[name must not be null, description must not be null]');
    const classification = body['classification'];
    if (typeof classification !== 'string' || !this.classifications.has(classification)) throw new HttpError(404, `classification instance for ${String(classification)} not found`);
    const parent = body['parent'];
    if (parent !== undefined && (typeof parent !== 'string' || !this.tags.has(parent))) throw new HttpError(404, `tag instance for ${String(parent)} not found`);
    const fqn = typeof parent === 'string' ? addToFqn(parent, body['name'], this.fqnStyle) : this.fqn(classification, body['name']);
    if (this.tags.has(fqn)) throw new HttpError(409, 'Entity already exists');
    const tag = this.addTag(classification, body['name'], { ...(typeof parent === 'string' ? { parent } : {}), mutuallyExclusive: body['mutuallyExclusive'] === true });
    tag.description = body['description'];
    return tag;
  }
}

function notFound(type: string, name: string): never {
  throw new HttpError(404, `${type} instance for ${name} not found`);
}

function userJson(user: User): JsonObject {
  return { id: user.id, name: user.name, fullyQualifiedName: user.name, email: user.email, isBot: user.isBot };
}

function teamJson(team: { id: string; name: string; teamType: string }): JsonObject {
  return { id: team.id, name: team.name, fullyQualifiedName: team.name, teamType: team.teamType };
}

function parseJson(body: string): Json {
  try {
    return JSON.parse(body) as Json;
  } catch {
    throw new HttpError(400, 'Unable to process JSON');
  }
}

function requireObject(raw: Json, what: string, allowed: string[]): JsonObject {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new HttpError(400, `${what} is an object`);
  for (const key of Object.keys(raw)) if (!allowed.includes(key)) throw new HttpError(400, `Unrecognized field "${key}" (class ${what}), not marked as ignorable`);
  return raw;
}

/** ResultList paging with opaque cursors; limit 1..1,000,000 as the server's. */
function page<T>(items: T[], query: URLSearchParams): { data: T[]; paging: { total: number; after?: string; before?: string } } {
  const limit = Number(query.get('limit') ?? 10);
  if (!Number.isInteger(limit) || limit < 0 || limit > 1_000_000) throw new HttpError(400, 'limit must be between 0 and 1000000');
  const after = query.get('after');
  const start = after ? Number(Buffer.from(after, 'base64').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw new HttpError(400, 'invalid cursor');
  const data = items.slice(start, start + limit);
  const paging: { total: number; after?: string; before?: string } = { total: items.length };
  if (start + limit < items.length) paging.after = Buffer.from(String(start + limit)).toString('base64');
  if (start > 0) paging.before = Buffer.from(String(Math.max(0, start - limit))).toString('base64');
  return { data, paging };
}

function pointer(path: string, status: number): string[] {
  if (!path.startsWith('/')) throw new HttpError(status, `invalid JSON pointer ${path}`);
  return path.slice(1).split('/').map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * RFC 6902 add / remove / replace / test. A failed test, a missing path or an index out of range
 * is a jakarta.json.JsonException: 400 from PR #28316 (CatalogGenericExceptionMapper maps it),
 * an unmapped 500 before.
 */
function applyOperation(document: JsonObject, raw: Json, status: number): void {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new HttpError(status, 'a patch operation is an object');
  const { op, path, value } = raw as { op?: string; path?: string; value?: Json };
  if (typeof op !== 'string' || typeof path !== 'string') throw new HttpError(status, 'a patch operation has op and path');
  const tokens = pointer(path, status);
  const last = tokens.pop() as string;
  let parent: Json = document;
  for (const token of tokens) {
    const next: Json | undefined = Array.isArray(parent) ? parent[Number(token)] : parent && typeof parent === 'object' ? parent[token] : undefined;
    if (next === undefined) throw new HttpError(status, `path ${path} does not exist`);
    parent = next;
  }
  if (!parent || typeof parent !== 'object') throw new HttpError(status, `path ${path} does not exist`);
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new HttpError(status, `index ${last} out of range in ${path}`);
    if (op === 'add') parent.splice(index, 0, value as Json);
    else if (index >= parent.length) throw new HttpError(status, `index ${last} out of range in ${path}`);
    else if (op === 'replace') parent[index] = value as Json;
    else if (op === 'remove') parent.splice(index, 1);
    else if (op === 'test') {
      if (JSON.stringify(parent[index]) !== JSON.stringify(value)) throw new HttpError(status, status === 500 ? "The JSON Patch operation 'test' failed" : `JSON Patch test failed at ${path}`);
    } else throw new HttpError(status, `unsupported op ${op}`);
    return;
  }
  if (op === 'add') parent[last] = value as Json;
  else if (!(last in parent)) throw new HttpError(status, `path ${path} does not exist`);
  else if (op === 'replace') parent[last] = value as Json;
  else if (op === 'remove') delete parent[last];
  else if (op === 'test') {
    if (JSON.stringify(parent[last]) !== JSON.stringify(value)) throw new HttpError(status, status === 500 ? "The JSON Patch operation 'test' failed" : `JSON Patch test failed at ${path}`);
  } else throw new HttpError(status, `unsupported op ${op}`);
}

export function manualTag(tagFQN: string): TagLabel {
  return { tagFQN, source: 'Classification', labelType: 'Manual', state: 'Confirmed' };
}

export async function startOpenMetadataEmulator(options: EmulatorOptions = {}): Promise<OpenMetadataEmulator> {
  const emulator = new OpenMetadataEmulator(options);
  await emulator.start();
  return emulator;
}
