/**
 * What the plan checks about tags once the diff is known: that every tag object it sets exists
 * (or is created, with options.createTags) and allows the value; and, since ACCOUNT_USAGE lags,
 * the real-time tags of every object whose tags change, by which the changes are corrected.
 */
import { ErrorList } from '../../core/errors.js';
import { changeId, findLive, formatAddress, type CatalogSnapshot, type Change, type LiveObject } from '../../core/model.js';
import type { ServiceConfig } from '../types.js';
import { assignTag, ENGINE_TAGS, isMissingObject, realtimeTagsSql, type RealtimeTarget, type RunQuery, type TagReading } from './catalog.js';
import { isTagObjectChange, quoteSnowflakeLiteral, quoteStoredIdentifier, TAG_OBJECT_PROPERTY, tagObjectSql } from './dialect.js';
import { resolveTagKey, spellName, storedName } from './names.js';

/** Real-time tag reads per query (each object is one or two table functions in a UNION ALL). */
const REALTIME_BATCH = 50;

export interface TagContext {
  query: RunQuery;
  service: ServiceConfig;
  reading: TagReading;
}

export async function checkTagObjects(context: TagContext, changes: Change[], snapshot: CatalogSnapshot): Promise<void> {
  const errors = new ErrorList();
  const tagSchema = context.reading.tagSchema;
  const bySchema = new Map<string, { schema: [string, string]; tags: Map<string, Change[]> }>();
  for (const change of changes) {
    if (change.property !== 'tag' || change.after === null) continue;
    const tag = resolveTagKey(change.key ?? '', tagSchema);
    if ('error' in tag) {
      errors.add(`${change.address}: ${tag.error}`, change.source, 'set options.tagSchema on the service, or write the key as DATABASE.SCHEMA.TAG');
      continue;
    }
    const schemaKey = JSON.stringify([tag[0], tag[1]]);
    let entry = bySchema.get(schemaKey);
    if (!entry) bySchema.set(schemaKey, (entry = { schema: [tag[0], tag[1]], tags: new Map() }));
    const list = entry.tags.get(tag[2]) ?? [];
    list.push(change);
    entry.tags.set(tag[2], list);
  }
  const createTags = context.service.options['createTags'] === true;
  const created: string[] = [];
  for (const { schema, tags } of bySchema.values()) {
    const existing = new Map<string, string[] | null>();
    try {
      for (const row of await context.query(`SHOW TAGS IN SCHEMA ${quoteStoredIdentifier(schema[0])}.${quoteStoredIdentifier(schema[1])}`)) {
        const allowed = row[6];
        existing.set(String(row[1]), allowed === null || allowed === undefined || allowed === '' ? null : (JSON.parse(String(allowed)) as string[]));
      }
    } catch (error) {
      if (!isMissingObject(error)) throw error;
    }
    snapshot.queries++;
    for (const [name, users] of tags) {
      const full = tagObjectSql([schema[0], schema[1], name]);
      const first = users[0] as Change;
      if (!existing.has(name)) {
        if (createTags) {
          created.push(full);
          const path = [spellName(schema[0]), spellName(schema[1])];
          const address = formatAddress(context.service.name, path);
          changes.push({
            id: changeId(address, TAG_OBJECT_PROPERTY, name),
            origin: 'prepare',
            service: context.service.name,
            address,
            path,
            level: 'schema',
            property: 'tag',
            key: name,
            action: 'add',
            before: null,
            after: `tag object ${[schema[0], schema[1], name].map(spellName).join('.')}`,
            ...(first.source ? { source: first.source } : {}),
          });
        } else
          errors.add(
            `tag object ${full} does not exist (tag ${first.key} on ${first.address}${users.length > 1 ? ` and ${users.length - 1} more` : ''})`,
            first.source,
            `create it: CREATE TAG IF NOT EXISTS ${full}; or let metaform create it with options.createTags: true`,
          );
        continue;
      }
      const allowed = existing.get(name);
      if (!allowed) continue;
      for (const change of users)
        if (!allowed.includes(change.after as string))
          errors.add(
            `tag ${change.key} = ${quoteSnowflakeLiteral(change.after)} on ${change.address} is not among the allowed values of ${full}: ${allowed.map((value) => quoteSnowflakeLiteral(value)).join(', ')}`,
            change.source,
            `use one of them, or add it: ALTER TAG ${full} ADD ALLOWED_VALUES ${quoteSnowflakeLiteral(change.after)}`,
          );
    }
  }
  errors.throwIfAny();
  if (created.length > 0) snapshot.server['createdTags'] = created;
}

export async function confirmTagsInRealTime(context: TagContext, changes: Change[], snapshot: CatalogSnapshot): Promise<void> {
  // The objects whose tags change, with what ACCOUNT_USAGE said and the keys that change.
  const managed = new Map<string, { path: string[]; lagging: Record<string, string>; keys: Set<string>; first: Change }>();
  for (const change of changes) {
    if (change.property !== 'tag' || isTagObjectChange(change)) continue;
    const key = JSON.stringify(change.path);
    let entry = managed.get(key);
    if (!entry) managed.set(key, (entry = { path: change.path, lagging: { ...findLive(snapshot, change.path)?.tags }, keys: new Set(), first: change }));
    entry.keys.add(change.key ?? '');
  }
  if (managed.size === 0) return;
  await readTagsInRealTime(context, snapshot, [...managed.values()].map(({ path }) => path));
  keepOnly(changes, (change) => {
    if (change.property !== 'tag' || isTagObjectChange(change)) return true;
    const now = findLive(snapshot, change.path)?.tags?.[change.key ?? ''] ?? null;
    if (now === change.after) return false;
    change.before = now;
    change.action = now === null ? 'add' : change.after === null ? 'remove' : 'update';
    return true;
  });
  if (!context.service.tags.prune) return;
  // With prune on, a key the diff left alone had its desired value in ACCOUNT_USAGE (or was
  // absent from both): where the real-time value differs, it is put back as the YAML has it.
  for (const { path, lagging, keys, first } of managed.values()) {
    const current = findLive(snapshot, path)?.tags ?? {};
    for (const key of new Set([...Object.keys(lagging), ...Object.keys(current)])) {
      if (keys.has(key)) continue;
      const before = current[key] ?? null;
      const after = lagging[key] ?? null;
      if (before === after) continue;
      changes.push({
        ...first,
        id: changeId(first.address, 'tag', key),
        key,
        action: before === null ? 'add' : after === null ? 'remove' : 'update',
        before,
        after,
      });
    }
  }
}

/**
 * Replaces the snapshot's tags of these objects (spelled paths; a column's table is read with
 * all its columns) by what the real-time TAG_REFERENCES functions answer, many objects a query.
 */
export async function readTagsInRealTime(context: TagContext, snapshot: CatalogSnapshot, paths: readonly (readonly string[])[]): Promise<void> {
  const targets = new Map<string, { target: RealtimeTarget; live: LiveObject }>();
  for (const spelled of paths) {
    const objectPath = spelled.slice(0, Math.min(spelled.length, 3));
    const key = JSON.stringify(objectPath);
    if (targets.has(key)) continue;
    const live = findLive(snapshot, objectPath);
    if (!live) continue;
    const domain = (['DATABASE', 'SCHEMA', 'TABLE'] as const)[objectPath.length - 1] ?? 'TABLE';
    targets.set(key, { target: { domain, path: objectPath.map(storedName) }, live });
    for (const object of domain === 'TABLE' ? [live, ...live.children.values()] : [live]) {
      object.tags = {};
      if (object.facts?.['tagObjects']) object.facts = { ...object.facts, tagObjects: {} };
      if (object.facts?.[ENGINE_TAGS]) object.facts = { ...object.facts, [ENGINE_TAGS]: {} };
    }
  }
  const list = [...targets.values()];
  for (let start = 0; start < list.length; start += REALTIME_BATCH) {
    const batch = list.slice(start, start + REALTIME_BATCH);
    const rows = await context.query(realtimeTagsSql(batch.map(({ target }) => target)));
    snapshot.queries++;
    for (const [index, tagDatabase, tagSchema, tagName, value, columnName, applyMethod] of rows) {
      const entry = batch[Number(index)];
      if (!entry) continue;
      const column = columnName === null || columnName === undefined ? undefined : spellName(String(columnName));
      const object = column === undefined ? entry.live : entry.live.children.get(column);
      if (!object) continue;
      const path = [...entry.target.path.map(spellName), ...(column === undefined ? [] : [column])];
      assignTag(object, [String(tagDatabase), String(tagSchema), String(tagName)], String(value), context.reading, () => formatAddress(context.service.name, path), applyMethod);
    }
  }
}

/** Keeps the changes `keep` accepts, in order, in the same array. */
export function keepOnly(changes: Change[], keep: (change: Change) => boolean): void {
  let kept = 0;
  for (const change of changes) if (keep(change)) changes[kept++] = change;
  changes.length = kept;
}

