/**
 * Tells the catalog what was applied: one JSON Patch per catalog entity (a table's column changes
 * ride with the table), sent with If-Match on servers that give ETags, re-read and retried on 412.
 * Columns are addressed by the index read just before the write, guarded by a JSON Patch `test`
 * of the column's name, so a column moved by another writer fails the patch instead of hitting
 * the wrong column. Each entity write is one result; a failure never hides the others. A change
 * the server would refuse or drop (an ambiguous key, a tag already applied by another labelType)
 * is not sent and makes the result failed, naming it; labels a mutually exclusive value replaces
 * are listed in the result's notes.
 */
import { diffService } from '../core/diff.js';
import type { Change, Level } from '../core/model.js';
import { formatAddress } from '../core/model.js';
import { runPool } from '../core/pool.js';
import type { Project } from '../core/project.js';
import { ambiguousTagMessage, COLLECTION_OF, isManagedLabel, readCatalog, tagFqnCandidates, tagKeyValue } from './catalog.js';
import { OpenMetadataHttpError, weakETag, type CatalogEntity, type CatalogUser, type ClientOptions, type EntityReference, type JsonPatchOperation, type OpenMetadataClient, type TagLabel } from './client.js';
import { buildFqn, catalogName, fqnSegment, sourceName, splitFqn, type FqnQuoting } from './fqn.js';
import { connectCatalog, openMetadataSettings } from './settings.js';
import { findByName, readSource, serviceHandle } from './source.js';

export type CatalogEntityType = 'database' | 'databaseSchema' | 'table';

/** One catalog write, journaled like a source operation. */
export interface CatalogWriteResult {
  /** `openmetadata:<entityType>:<entity FQN>` */
  id: string;
  service: string;
  entityType: CatalogEntityType;
  entityFqn: string;
  changeIds: string[];
  outcome: 'succeeded' | 'failed';
  error?: string;
  /** Labels the user did not manage that the write replaced (a mutually exclusive classification). */
  notes?: string[];
  attempts: number;
  durationMs: number;
}

export interface PushOptions extends ClientOptions {
  client?: OpenMetadataClient;
  /** Entities written at once (default 4). */
  concurrency?: number;
  /** Create a missing classification or tag (default: openmetadata.createTags). */
  createTags?: boolean;
  /** Writes of one entity before giving up on 412 (default 4). */
  maxAttempts?: number;
  onResult?: (result: CatalogWriteResult) => void;
}

const ENTITY_TYPE: Record<Exclude<Level, 'column'>, CatalogEntityType> = { database: 'database', schema: 'databaseSchema', table: 'table' };
const ENTITY_LEVELS: Exclude<Level, 'column'>[] = ['database', 'schema', 'table'];

interface EntityGroup {
  service: string;
  path: string[];
  level: Exclude<Level, 'column'>;
  changes: Change[];
}

export async function pushApplied(project: Project, appliedChanges: readonly Change[], options: PushOptions = {}): Promise<CatalogWriteResult[]> {
  if (appliedChanges.length === 0) return [];
  const client = options.client ?? (await connectCatalog(project, options));
  const createTags = options.createTags ?? openMetadataSettings(project).createTags;
  const groups = new Map<string, EntityGroup>();
  for (const change of appliedChanges) {
    const path = change.level === 'column' ? change.path.slice(0, 3) : change.path;
    const key = `${change.service}\u0000${formatAddress(change.service, path)}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { service: change.service, path, level: ENTITY_LEVELS[path.length - 1] as Exclude<Level, 'column'>, changes: [] }));
    group.changes.push(change);
  }
  const writer = new EntityWriter(project, client, createTags, options.maxAttempts ?? 4);
  const list = [...groups.values()];
  const results: CatalogWriteResult[] = new Array(list.length);
  await runPool(list, options.concurrency ?? 4, async (group, index) => {
    const result = await writer.write(group);
    results[index] = result;
    options.onResult?.(result);
  });
  return results;
}

/**
 * What the catalog still lacks of what was applied: YAML vs catalog changes whose desired value
 * the source already has. `metaform push` pushes these; so a write that failed in one run is
 * found and retried by the next.
 */
export async function pendingCatalogChanges(project: Project, serviceName: string, options: { client?: OpenMetadataClient } & ClientOptions = {}): Promise<Change[]> {
  const handle = serviceHandle(project, serviceName);
  const client = options.client ?? (await connectCatalog(project, options));
  const catalog = await readCatalog(client, handle.service, { databases: [...handle.desired.values()].map((database) => database.path[0] as string) });
  const { changes } = diffService({ service: handle.service, desired: handle.desired, snapshot: catalog.snapshot, ...(handle.connector.canonicalName ? { canonicalName: handle.connector.canonicalName } : {}) });
  if (changes.length === 0) return [];
  const source = await readSource(handle);
  return changes.filter((change) => {
    const live = findByName(source, change.path, handle.connector);
    if (!live) return false;
    const value = change.property === 'description' ? (live.description || null) : change.property === 'owner' ? (live.owner ?? null) : (live.tags?.[change.key ?? ''] ?? null);
    return value === change.after;
  });
}

/** What one read of an entity asks of the server, and what cannot be written. */
interface EntityPatch {
  operations: JsonPatchOperation[];
  /** Changes that are not written, each with why (the write is reported failed). */
  unwritten: string[];
  /** Labels the user did not manage that the write replaces (a mutually exclusive classification). */
  notes: string[];
  /** Manual labels the patch adds: the answer must hold them (the server may keep another label of the same tag). */
  expected: { path: string; tagFQN: string }[];
}

interface TagFacts {
  mutuallyExclusive: boolean;
}

class EntityWriter {
  /** Whether this server drops column changes sent with If-Match (#28876), found by a re-read. */
  private ifMatchDropsColumns = false;
  private ifMatchColumnsVerified = false;
  private readonly owners = new Map<string, Promise<EntityReference>>();
  /** Tag FQN -> the tag (undefined: no such tag), read once per run. */
  private readonly tagFacts = new Map<string, Promise<TagFacts | undefined>>();
  /** Classification name -> the classification (undefined: none), read once per run. */
  private readonly classificationFacts = new Map<string, Promise<TagFacts | undefined>>();
  /** `key\u0000value` -> the tag FQN written for it, resolved (and created when allowed) once. */
  private readonly resolved = new Map<string, Promise<string>>();
  private usersByEmail?: Promise<Map<string, CatalogUser>>;

  constructor(
    private readonly project: Project,
    private readonly client: OpenMetadataClient,
    private readonly createTags: boolean,
    private readonly maxAttempts: number,
  ) {}

  private get quoting(): FqnQuoting {
    return this.client.server.fqnQuoting;
  }

  async write(group: EntityGroup): Promise<CatalogWriteResult> {
    const started = performance.now();
    const entityType = ENTITY_TYPE[group.level];
    const collection = COLLECTION_OF[group.level];
    const candidates = [...new Set([buildFqn([group.service, ...group.path.map(catalogName)], this.quoting), buildFqn([group.service, ...group.path], this.quoting)])];
    const result: CatalogWriteResult = {
      id: `openmetadata:${entityType}:${candidates[0]}`,
      service: group.service,
      entityType,
      entityFqn: candidates[0] as string,
      changeIds: group.changes.map((change) => change.id),
      outcome: 'failed',
      attempts: 0,
      durationMs: 0,
    };
    const fields = [this.client.ownerField, 'tags', ...(group.level === 'table' ? ['columns'] : [])];
    let unwritten: string[] = [];
    try {
      let verifying = false;
      for (;;) {
        result.attempts++;
        let found: Awaited<ReturnType<OpenMetadataClient['getByName']>>;
        for (const fqn of candidates) {
          found = await this.client.getByName(collection, fqn, fields, `${entityType} ${fqn}`);
          if (found) break;
        }
        if (!found) throw new Error(`${entityType} ${candidates[0]} is not in the catalog (has the service been ingested?)`);
        const entity = found.body;
        result.entityFqn = entity.fullyQualifiedName;
        result.id = `openmetadata:${entityType}:${entity.fullyQualifiedName}`;
        const patch = await this.operations(group, entity);
        unwritten = patch.unwritten;
        if (patch.notes.length > 0) result.notes = patch.notes;
        const operations = patch.operations;
        if (operations.length === 0) {
          if (verifying) this.ifMatchColumnsVerified = true;
          break;
        }
        if (verifying) {
          // A 200 that did not persist the column changes: the server has OpenMetadata bug
          // #28876 (If-Match drops nested column fields). Column patches go without If-Match;
          // the `test` of each column's name still guards the index.
          this.ifMatchDropsColumns = true;
          verifying = false;
          if (result.attempts > this.maxAttempts) throw new Error(`${entityType} ${entity.fullyQualifiedName}: the server answered 200 but did not keep the column changes`);
        }
        const touchesColumns = operations.some((operation) => operation.path.startsWith('/columns/'));
        const ifMatch = found.etag && entity.version !== undefined && !(touchesColumns && this.ifMatchDropsColumns) ? weakETag(entity.version) : undefined;
        try {
          const written = await this.client.patch(collection, entity.id, operations, ifMatch, `${entityType} ${entity.fullyQualifiedName}`);
          unwritten = [...unwritten, ...droppedLabels(written.body, patch.expected, entity.fullyQualifiedName)];
          // Only a re-read proves a column write made with If-Match (once per run on a sound server).
          if (ifMatch && touchesColumns && !this.ifMatchColumnsVerified) {
            verifying = true;
            continue;
          }
          break;
        } catch (error) {
          // 412: another writer came first. A failed `test` or a column index gone (a column
          // moved): 400 on current servers, 500 before PR #28316 (the patch carried a `test`, so
          // it was not retried as a 5xx): the entity is read again and the patch planned anew.
          const status = error instanceof OpenMetadataHttpError ? error.status : 0;
          const tested = operations.some((operation) => operation.op === 'test');
          const stale = status === 412 || (tested && (status === 500 || (status === 400 && /test|path|pointer|index/i.test((error as Error).message))));
          if (!stale || result.attempts >= this.maxAttempts) throw error;
        }
      }
      if (unwritten.length > 0) result.error = unwritten.join('; ');
      else result.outcome = 'succeeded';
    } catch (error) {
      result.error = [error instanceof Error ? error.message : String(error), ...unwritten].join('; ');
    }
    result.durationMs = Math.round(performance.now() - started);
    return result;
  }

  /** The patch that gives the entity the applied values; no operations when it already has them. */
  private async operations(group: EntityGroup, entity: CatalogEntity): Promise<EntityPatch> {
    const patch: EntityPatch = { operations: [], unwritten: [], notes: [], expected: [] };
    const own = group.changes.filter((change) => change.level !== 'column');
    this.describe(patch.operations, '', entity.description, own);
    await this.ownersPatch(patch.operations, group.service, entity, own);
    await this.tagsPatch(patch, patch.operations, '/tags', entity.tags ?? [], own, entity.fullyQualifiedName);
    const byColumn = new Map<string, Change[]>();
    for (const change of group.changes) {
      if (change.level !== 'column') continue;
      const name = change.path[3] as string;
      let list = byColumn.get(name);
      if (!list) byColumn.set(name, (list = []));
      list.push(change);
    }
    for (const [name, changes] of byColumn) {
      const columns = entity.columns ?? [];
      const index = columns.findIndex((column) => column.name === catalogName(name) || column.name === name || sourceName(column.name) === name);
      const column = columns[index];
      if (!column) throw new Error(`column ${name} of ${entity.fullyQualifiedName} is not in the catalog`);
      const columnOperations: JsonPatchOperation[] = [];
      this.describe(columnOperations, `/columns/${index}`, column.description, changes);
      await this.tagsPatch(patch, columnOperations, `/columns/${index}/tags`, column.tags ?? [], changes, column.fullyQualifiedName ?? `${entity.fullyQualifiedName} column ${column.name}`);
      if (columnOperations.length > 0) patch.operations.push({ op: 'test', path: `/columns/${index}/name`, value: column.name }, ...columnOperations);
    }
    return patch;
  }

  private describe(operations: JsonPatchOperation[], prefix: string, current: string | undefined, changes: Change[]): void {
    const change = changes.find((candidate) => candidate.property === 'description');
    if (!change || (current || null) === change.after) return;
    if (change.after === null) {
      if (current !== undefined) operations.push({ op: 'remove', path: `${prefix}/description` });
    } else operations.push({ op: current === undefined ? 'add' : 'replace', path: `${prefix}/description`, value: change.after });
  }

  private async ownersPatch(operations: JsonPatchOperation[], service: string, entity: CatalogEntity, changes: Change[]): Promise<void> {
    const change = changes.find((candidate) => candidate.property === 'owner');
    if (!change) return;
    // Inherited owners are recomputed from the container on every read and no PATCH removes
    // them (TableRepository.setInheritedFields): only the entity's own owners are compared.
    const current = (entity.owners ?? (entity.owner ? [entity.owner] : [])).filter((reference) => !reference.inherited);
    const wanted = change.after === null ? undefined : await this.ownerReference(service, change.after);
    if (wanted ? current.length === 1 && current[0]?.id === wanted.id : current.length === 0) return;
    if (this.client.server.multiOwner) operations.push({ op: 'add', path: '/owners', value: wanted ? [wanted] : [] });
    else if (wanted) operations.push({ op: 'add', path: '/owner', value: wanted });
    else operations.push({ op: 'remove', path: '/owner' });
  }

  /** Source principal -> catalog principal (owners.map read backwards) -> a user or a team. */
  private ownerReference(service: string, sourcePrincipal: string): Promise<EntityReference> {
    const map = this.project.config.services.get(service)?.config.owners.map ?? {};
    const principal = Object.keys(map).find((key) => map[key] === sourcePrincipal) ?? sourcePrincipal;
    let pending = this.owners.get(principal);
    if (!pending) {
      pending = this.resolvePrincipal(principal);
      this.owners.set(principal, pending);
    }
    return pending;
  }

  private async resolvePrincipal(principal: string): Promise<EntityReference> {
    if (principal.includes('@')) {
      this.usersByEmail ??= (async () => {
        const users = new Map<string, CatalogUser>();
        await this.client.listAll<CatalogUser>('/users', { fields: 'email' }, 'list users', (page) => {
          for (const user of page) if (user.email) users.set(user.email.toLowerCase(), user);
        });
        return users;
      })();
      const user = (await this.usersByEmail).get(principal.toLowerCase());
      if (user) return { id: user.id, type: 'user' };
    }
    for (const [collection, type] of [['users', 'user'], ['teams', 'team']] as const) {
      try {
        const { body } = await this.client.request<{ id: string }>('GET', `/${collection}/name/${encodeURIComponent(principal)}`, { about: `${type} ${principal}` });
        return { id: body.id, type };
      } catch (error) {
        if (!(error instanceof OpenMetadataHttpError && error.status === 404)) throw error;
      }
    }
    throw new Error(`owner ${principal}: no user (by name or e-mail) or team of that name in OpenMetadata; map it in services.<name>.owners.map`);
  }

  /**
   * The labels of one asset after the tag changes. A key's value replaces the managed label of
   * that classification; on a mutually exclusive classification (PII and Tier ship so:
   * json/data/tags/piiTags.json, tierTags.json) it replaces any label of it, since the server
   * refuses a second one (TagLabelUtil.checkMutuallyExclusive), and each label the user did not
   * manage that goes is noted. The server keeps one label per tag FQN, the first
   * (EntityUtil.mergeTags), so a tag already applied by another labelType is reported, not sent.
   */
  private async tagsPatch(patch: EntityPatch, operations: JsonPatchOperation[], path: string, current: TagLabel[], changes: Change[], asset: string): Promise<void> {
    const tagChanges = changes.filter((change) => change.property === 'tag' && change.key !== undefined);
    if (tagChanges.length === 0) return;
    let labels = current;
    for (const change of tagChanges) {
      const key = change.key as string;
      const ofKey = (label: TagLabel) => label.source === 'Classification' && tagKeyValue(label.tagFQN).key === key;
      const managed = labels.filter((label) => isManagedLabel(label) && ofKey(label));
      const values = [...new Set(managed.map((label) => tagKeyValue(label.tagFQN).value))];
      if (values.length > 1) {
        const { message, hint } = ambiguousTagMessage(asset, key, values);
        patch.unwritten.push(`${message}: not written (${hint})`);
        continue;
      }
      if (change.after === null) {
        labels = labels.filter((label) => !managed.includes(label));
        continue;
      }
      const tagFQN = await this.resolveTag(key, change.after);
      const other = labels.find((label) => label.tagFQN === tagFQN && !isManagedLabel(label));
      if (other) {
        patch.unwritten.push(`tag ${tagFQN} on ${asset} is already applied as a ${describeLabel(other)} label; OpenMetadata keeps one label per tag and would drop metaform's Manual one: not written`);
        continue;
      }
      const parts = splitFqn(tagFQN);
      const parent = parts.length > 2 ? buildFqn(parts.slice(0, -1), this.quoting) : undefined;
      const classificationExclusive = (await this.classification(key))?.mutuallyExclusive === true;
      const parentExclusive = parent !== undefined && (await this.tag(parent))?.mutuallyExclusive === true;
      const replaced = (label: TagLabel) =>
        managed.includes(label) || (label.source === 'Classification' && ((classificationExclusive && ofKey(label)) || (parentExclusive && parentOf(label.tagFQN, this.quoting) === parent)));
      for (const label of labels) {
        if (replaced(label) && !isManagedLabel(label)) patch.notes.push(`${asset}: ${tagFQN} replaces the ${describeLabel(label)} label ${label.tagFQN} (${parentExclusive && !classificationExclusive ? `tag ${parent}` : `classification ${key}`} is mutually exclusive)`);
      }
      labels = [...labels.filter((label) => !replaced(label)), { tagFQN, source: 'Classification', labelType: 'Manual', state: 'Confirmed' }];
      patch.expected.push({ path, tagFQN });
    }
    const before = current.map((label) => label.tagFQN).sort().join('\n');
    const after = labels.map((label) => label.tagFQN).sort().join('\n');
    if (before !== after) operations.push({ op: 'add', path, value: labels });
  }

  /**
   * The tag a value names: the nested tag first (`Sensitive.Email` = child `Email` of tag
   * `Sensitive`), else the tag named with the dot; created, when allowed, as nested tags below
   * the classification (CreateTag `parent`), missing levels included.
   */
  private resolveTag(key: string, value: string): Promise<string> {
    const cacheKey = `${key}\u0000${value}`;
    let pending = this.resolved.get(cacheKey);
    if (!pending) {
      pending = (async () => {
        const candidates = tagFqnCandidates(key, value, this.quoting);
        for (const candidate of candidates) if (await this.tag(candidate)) return candidate;
        const wanted = candidates[0] as string;
        if (!this.createTags) throw new Error(`tag ${wanted} does not exist in OpenMetadata; create it there, or set openmetadata.createTags: true to let metaform create it`);
        await this.createTag(key, value.split('.'));
        return wanted;
      })();
      this.resolved.set(cacheKey, pending);
    }
    return pending;
  }

  private async createTag(classification: string, names: string[]): Promise<void> {
    if (!(await this.classification(classification))) {
      // A source key holds one value, so a classification metaform creates is mutually exclusive.
      await this.client.request('POST', '/classifications', { body: { name: classification, description: `Tag key ${classification}, created by metaform`, mutuallyExclusive: true }, about: `create classification ${classification}` });
      this.classificationFacts.set(classification, Promise.resolve({ mutuallyExclusive: true }));
    }
    for (let depth = 1; depth <= names.length; depth++) {
      const fqn = buildFqn([classification, ...names.slice(0, depth)], this.quoting);
      if (await this.tag(fqn)) continue;
      const parent = depth > 1 ? { parent: buildFqn([classification, ...names.slice(0, depth - 1)], this.quoting) } : {};
      await this.client.request('POST', '/tags', { body: { name: names[depth - 1], description: 'Created by metaform', classification, ...parent }, about: `create tag ${fqn}` });
      this.tagFacts.set(fqn, Promise.resolve({ mutuallyExclusive: false }));
    }
  }

  private tag(fqn: string): Promise<TagFacts | undefined> {
    let pending = this.tagFacts.get(fqn);
    if (!pending) {
      pending = this.facts(`/tags/name/${fqnSegment(fqn)}`, `tag ${fqn}`);
      this.tagFacts.set(fqn, pending);
    }
    return pending;
  }

  private classification(name: string): Promise<TagFacts | undefined> {
    let pending = this.classificationFacts.get(name);
    if (!pending) {
      pending = this.facts(`/classifications/name/${fqnSegment(buildFqn([name], this.quoting))}`, `classification ${name}`);
      this.classificationFacts.set(name, pending);
    }
    return pending;
  }

  private async facts(path: string, about: string): Promise<TagFacts | undefined> {
    try {
      const { body } = await this.client.request<{ mutuallyExclusive?: boolean }>('GET', path, { about });
      return { mutuallyExclusive: body.mutuallyExclusive === true };
    } catch (error) {
      if (error instanceof OpenMetadataHttpError && error.status === 404) return undefined;
      throw error;
    }
  }
}

function describeLabel(label: TagLabel): string {
  return label.labelType === 'Manual' ? `Manual (${label.state})` : label.labelType;
}

function parentOf(tagFQN: string, quoting: FqnQuoting): string | undefined {
  const parts = splitFqn(tagFQN);
  return parts.length > 1 ? buildFqn(parts.slice(0, -1), quoting) : undefined;
}

/** Manual labels the patch sent that the answer lacks: the server kept another label of that tag. */
function droppedLabels(answer: CatalogEntity | undefined, expected: readonly { path: string; tagFQN: string }[], asset: string): string[] {
  const dropped: string[] = [];
  for (const { path, tagFQN } of expected) {
    const index = /^\/columns\/(\d+)\/tags$/.exec(path)?.[1];
    const labels = index === undefined ? answer?.tags : answer?.columns?.[Number(index)]?.tags;
    if (!labels) continue; // the answer does not show tags
    if (!labels.some((label) => label.tagFQN === tagFQN && isManagedLabel(label))) {
      const kept = labels.find((label) => label.tagFQN === tagFQN);
      dropped.push(`tag ${tagFQN} on ${asset}: OpenMetadata ${kept ? `kept its ${describeLabel(kept)} label` : 'did not keep the label'} and dropped metaform's Manual one`);
    }
  }
  return dropped;
}

/** The changes an apply made: those of its succeeded operations (what `apply` with push sends). */
export function appliedChanges(changes: readonly Change[], operations: readonly { outcome: string; changes: readonly { id: string }[] }[]): Change[] {
  const succeeded = new Set<string>();
  for (const operation of operations) if (operation.outcome === 'succeeded') for (const change of operation.changes) succeeded.add(change.id);
  return changes.filter((change) => succeeded.has(change.id));
}
