/**
 * Tells the catalog what was applied: one JSON Patch per catalog entity (a table's column changes
 * ride with the table), sent with If-Match on servers that give ETags, re-read and retried on 412.
 * Columns are addressed by the index read just before the write, guarded by a JSON Patch `test`
 * of the column's name, so a column moved by another writer fails the patch instead of hitting
 * the wrong column. Each entity write is one result; a failure never hides the others.
 */
import { diffService } from '../core/diff.js';
import type { Change, Level } from '../core/model.js';
import { formatAddress } from '../core/model.js';
import { runPool } from '../core/pool.js';
import type { Project } from '../core/project.js';
import { COLLECTION_OF, isManagedLabel, readCatalog, tagFqnOf, tagKeyValue } from './catalog.js';
import { OpenMetadataHttpError, type CatalogEntity, type CatalogUser, type ClientOptions, type EntityReference, type OpenMetadataClient, type TagLabel } from './client.js';
import { buildFqn, catalogName, sourceName } from './fqn.js';
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

interface PatchOperation {
  op: 'add' | 'replace' | 'remove' | 'test';
  path: string;
  value?: unknown;
}

class EntityWriter {
  /** Whether this server drops column changes sent with If-Match (#28876), found by a re-read. */
  private ifMatchDropsColumns = false;
  private ifMatchColumnsVerified = false;
  private readonly owners = new Map<string, Promise<EntityReference>>();
  private readonly tags = new Map<string, Promise<void>>();
  private usersByEmail?: Promise<Map<string, CatalogUser>>;

  constructor(
    private readonly project: Project,
    private readonly client: OpenMetadataClient,
    private readonly createTags: boolean,
    private readonly maxAttempts: number,
  ) {}

  async write(group: EntityGroup): Promise<CatalogWriteResult> {
    const started = performance.now();
    const entityType = ENTITY_TYPE[group.level];
    const collection = COLLECTION_OF[group.level];
    const candidates = [...new Set([buildFqn([group.service, ...group.path.map(catalogName)]), buildFqn([group.service, ...group.path])])];
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
        const operations = await this.operations(group, entity);
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
        const ifMatch = found.etag && entity.version !== undefined && !(touchesColumns && this.ifMatchDropsColumns) ? `W/"${entity.version}"` : undefined;
        try {
          await this.client.patch(collection, entity.id, operations, ifMatch, `${entityType} ${entity.fullyQualifiedName}`);
          // Only a re-read proves a column write made with If-Match (once per run on a sound server).
          if (ifMatch && touchesColumns && !this.ifMatchColumnsVerified) {
            verifying = true;
            continue;
          }
          break;
        } catch (error) {
          const stale = error instanceof OpenMetadataHttpError && (error.status === 412 || (error.status === 400 && /test/i.test(error.message)));
          if (!stale || result.attempts >= this.maxAttempts) throw error;
        }
      }
      result.outcome = 'succeeded';
    } catch (error) {
      result.error = error instanceof Error ? error.message : String(error);
    }
    result.durationMs = Math.round(performance.now() - started);
    return result;
  }

  /** The patch that gives the entity the applied values; empty when it already has them. */
  private async operations(group: EntityGroup, entity: CatalogEntity): Promise<PatchOperation[]> {
    const operations: PatchOperation[] = [];
    const own = group.changes.filter((change) => change.level !== 'column');
    this.describe(operations, '', entity.description, own);
    await this.ownersPatch(operations, group.service, entity, own);
    await this.tagsPatch(operations, '/tags', entity.tags ?? [], own);
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
      const columnOperations: PatchOperation[] = [];
      this.describe(columnOperations, `/columns/${index}`, column.description, changes);
      await this.tagsPatch(columnOperations, `/columns/${index}/tags`, column.tags ?? [], changes);
      if (columnOperations.length > 0) operations.push({ op: 'test', path: `/columns/${index}/name`, value: column.name }, ...columnOperations);
    }
    return operations;
  }

  private describe(operations: PatchOperation[], prefix: string, current: string | undefined, changes: Change[]): void {
    const change = changes.find((candidate) => candidate.property === 'description');
    if (!change || (current || null) === change.after) return;
    if (change.after === null) {
      if (current !== undefined) operations.push({ op: 'remove', path: `${prefix}/description` });
    } else operations.push({ op: current === undefined ? 'add' : 'replace', path: `${prefix}/description`, value: change.after });
  }

  private async ownersPatch(operations: PatchOperation[], service: string, entity: CatalogEntity, changes: Change[]): Promise<void> {
    const change = changes.find((candidate) => candidate.property === 'owner');
    if (!change) return;
    const current = entity.owners ?? (entity.owner ? [entity.owner] : []);
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

  private async tagsPatch(operations: PatchOperation[], path: string, current: TagLabel[], changes: Change[]): Promise<void> {
    const tagChanges = changes.filter((change) => change.property === 'tag' && change.key !== undefined);
    if (tagChanges.length === 0) return;
    let labels = current;
    for (const change of tagChanges) {
      const key = change.key as string;
      labels = labels.filter((label) => !(isManagedLabel(label) && tagKeyValue(label.tagFQN).key === key));
      if (change.after !== null) {
        const tagFQN = tagFqnOf(key, change.after);
        await this.ensureTag(key, change.after, tagFQN);
        labels.push({ tagFQN, source: 'Classification', labelType: 'Manual', state: 'Confirmed' });
      }
    }
    const before = current.map((label) => label.tagFQN).sort().join('\n');
    const after = labels.map((label) => label.tagFQN).sort().join('\n');
    if (before !== after) operations.push({ op: 'add', path, value: labels });
  }

  private ensureTag(classification: string, tag: string, tagFQN: string): Promise<void> {
    let pending = this.tags.get(tagFQN);
    if (!pending) {
      pending = this.createTagIfAllowed(classification, tag, tagFQN);
      this.tags.set(tagFQN, pending);
    }
    return pending;
  }

  private async createTagIfAllowed(classification: string, tag: string, tagFQN: string): Promise<void> {
    const exists = async (path: string, about: string) => {
      try {
        await this.client.request('GET', path, { about });
        return true;
      } catch (error) {
        if (error instanceof OpenMetadataHttpError && error.status === 404) return false;
        throw error;
      }
    };
    if (await exists(`/tags/name/${encodeURIComponent(tagFQN)}`, `tag ${tagFQN}`)) return;
    if (!this.createTags) throw new Error(`tag ${tagFQN} does not exist in OpenMetadata; create it there, or set openmetadata.createTags: true to let metaform create it`);
    if (!(await exists(`/classifications/name/${encodeURIComponent(classification)}`, `classification ${classification}`)))
      await this.client.request('POST', '/classifications', { body: { name: classification, description: `Tag key ${classification}, created by metaform` }, about: `create classification ${classification}` });
    await this.client.request('POST', '/tags', { body: { name: tag, description: `Created by metaform`, classification }, about: `create tag ${tagFQN}` });
  }
}

/** The changes an apply made: those of its succeeded operations (what `apply` with push sends). */
export function appliedChanges(changes: readonly Change[], operations: readonly { outcome: string; changes: readonly { id: string }[] }[]): Change[] {
  const succeeded = new Set<string>();
  for (const operation of operations) if (operation.outcome === 'succeeded') for (const change of operation.changes) succeeded.add(change.id);
  return changes.filter((change) => succeeded.has(change.id));
}
