/**
 * Catalog edits made by people, written into the YAML in place. Three values decide each
 * property: YAML, source (what was last applied) and catalog. YAML equal to the catalog: nothing
 * to do (so a second run writes nothing). Otherwise the property's last author decides whether
 * it is a person's edit (see Authorship); then YAML differing from the source means the YAML
 * holds a change not applied yet, and the catalog edit is a conflict, reported and not written;
 * no source capability for the property: reported, not written.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { isMap, isScalar, isSeq, parseDocument, stringify, type Document, type Node, type Pair, type Scalar, type YAMLMap } from 'yaml';
import type { DesiredObject } from '../core/desired.js';
import { formatAddress, type CatalogSnapshot, type Level, type LiveObject } from '../core/model.js';
import type { Project } from '../core/project.js';
import { supports } from '../core/validate.js';
import { ambiguousTagMessage, readCatalog, type CatalogLocation, type CatalogRead, type LastChange } from './catalog.js';
import { OpenMetadataHttpError, type ClientOptions, type EntityVersion, type FieldChange, type OpenMetadataClient } from './client.js';
import { connectCatalog, openMetadataSettings } from './settings.js';
import { findByName, findDesired, readSource, serviceHandle, type ServiceHandle } from './source.js';

export type PulledProperty = 'description' | 'owners' | 'tag';
type YamlValue = string | string[] | null;

export interface PulledEdit {
  service: string;
  address: string;
  level: Level;
  property: PulledProperty;
  key?: string;
  /** The YAML's value before (undefined: the property was not managed). */
  before: YamlValue | undefined;
  after: YamlValue;
  changedBy?: string;
  changedAt?: number;
  /** Relative to the project root. */
  file: string;
}

export interface PullIssue {
  service: string;
  address: string;
  level: Level;
  property: PulledProperty;
  key?: string;
  catalog: YamlValue;
  yaml: YamlValue | undefined;
  changedBy?: string;
  reason: string;
}

export interface PullResult {
  edits: PulledEdit[];
  conflicts: PullIssue[];
  unsupported: PullIssue[];
  /** Catalog values that differ from the YAML whose author cannot be known: not written, listed with why. */
  unattributed: PullIssue[];
  /** Files written (relative to the project root); empty on a dry run or when nothing changed. */
  files: string[];
}

export interface PullOptions extends ClientOptions {
  services?: string[];
  /** Only edits made at or after this time (epoch ms). */
  since?: number;
  /** Report the edits without writing the files. */
  dryRun?: boolean;
  client?: OpenMetadataClient;
}

export async function pullCatalogEdits(project: Project, options: PullOptions = {}): Promise<PullResult> {
  const client = options.client ?? (await connectCatalog(project, options));
  const settings = openMetadataSettings(project);
  const people = new Authorship(client, settings.botUsers);
  const result: PullResult = { edits: [], conflicts: [], unsupported: [], unattributed: [], files: [] };
  const edits: { edit: PulledEdit; yamlPath: (string | number)[] }[] = [];
  for (const name of options.services ?? [...project.config.services.keys()]) {
    const handle = serviceHandle(project, name);
    if (handle.desired.size === 0) continue; // nothing in the YAML to write into: import first
    const catalog = await readCatalog(client, handle.service, { databases: [...handle.desired.values()].map((database) => database.path[0] as string) });
    // Whole databases: a person may edit an object the YAML does not name yet.
    const source = await readSource(handle, { wholeDatabases: true });
    const finder = new EditFinder(handle, catalog, source, people, options.since, result, edits);
    for (const database of catalog.snapshot.databases.values()) await finder.visit(database, [database.name]);
  }
  if (!options.dryRun) result.files = await writeEdits(project.config.root, edits);
  return result;
}

/** Who last changed one field of one object, as far as the catalog tells. */
export type Author =
  | { kind: 'person' | 'bot'; changedBy: string; changedAt?: number; changeSource?: string }
  | { kind: 'unknown'; reason: string; changedBy?: string };

/**
 * Tells people from bots, field by field. A field the entity's repository registers with its
 * ChangeSummarizer (jdbi3/ChangeSummarizer.java; tables: description, owners,
 * columns.description) has a change summary: its `changedBy` and `changeSource` decide (a
 * person's edit is `Manual`). Every other field (tags anywhere; everything of databases and
 * schemas; everything on servers without summaries) is read from the entity's version history
 * (`GET /{collection}/{id}/versions`, type/entityHistory.json): the latest version whose
 * changeDescription names the field was written by that version's `updatedBy`; a field no
 * version names dates from the first version. The author is then looked up once: a user with
 * `isBot`, or one of openmetadata.botUsers, is a bot. The change-event feed (`/events`) was not
 * used: it needs a start time, has no paging, and its retention is unknown.
 */
class Authorship {
  private readonly users = new Map<string, Promise<Author['kind'] | string>>();
  private readonly histories = new Map<string, Promise<EntityVersion[] | string>>();
  constructor(
    private readonly client: OpenMetadataClient,
    private readonly bots: readonly string[],
  ) {}

  async authorOf(summary: LastChange | undefined, location: CatalogLocation | undefined, fields: readonly string[]): Promise<Author> {
    if (summary?.changedBy) {
      const changedBy = summary.changedBy;
      // Ingested, Automated, Propagated...: a connector or the server wrote it.
      const kind = summary.changeSource !== undefined && summary.changeSource !== 'Manual' ? 'bot' : await this.kindOf(changedBy);
      if (kind !== 'person' && kind !== 'bot') return { kind: 'unknown', reason: kind, changedBy };
      return { kind, changedBy, ...(summary.changedAt !== undefined ? { changedAt: summary.changedAt } : {}), ...(summary.changeSource ? { changeSource: summary.changeSource } : {}) };
    }
    if (!location) return { kind: 'unknown', reason: 'the catalog entity is not known' };
    const history = await this.history(location);
    if (typeof history === 'string') return { kind: 'unknown', reason: history };
    const names = new Set(fields.map((field) => location.fieldPrefix + field));
    // A column added after the table was created comes as one `columns` change holding it.
    const addedColumn = (change: FieldChange) => location.column !== undefined && change.name === 'columns' && typeof change.newValue === 'string' && change.newValue.includes(JSON.stringify(location.column));
    const touches = (version: EntityVersion) =>
      (version.changeDescription?.fieldsAdded ?? []).some(addedColumn) ||
      [...(version.changeDescription?.fieldsAdded ?? []), ...(version.changeDescription?.fieldsUpdated ?? []), ...(version.changeDescription?.fieldsDeleted ?? [])].some((change) => names.has(change.name));
    const version = history.find(touches) ?? history[history.length - 1];
    if (!version?.updatedBy) return { kind: 'unknown', reason: 'the version history names no author' };
    const kind = await this.kindOf(version.updatedBy);
    if (kind !== 'person' && kind !== 'bot') return { kind: 'unknown', reason: kind, changedBy: version.updatedBy };
    return { kind, changedBy: version.updatedBy, ...(version.updatedAt !== undefined ? { changedAt: version.updatedAt } : {}) };
  }

  /** The entity's versions, latest first, read once per entity (only for entities with a candidate edit); a string says why not. */
  private history(location: CatalogLocation): Promise<EntityVersion[] | string> {
    let pending = this.histories.get(location.id);
    if (!pending) {
      pending = this.client.versions(location.collection, location.id, `version history of ${location.collection} ${location.id}`).catch((error: unknown) => {
        if (error instanceof OpenMetadataHttpError) return `the version history could not be read (HTTP ${error.status})`;
        throw error;
      });
      this.histories.set(location.id, pending);
    }
    return pending;
  }

  /** 'person', 'bot', or why it cannot be told. */
  private kindOf(name: string): Promise<'person' | 'bot' | string> {
    if (this.bots.includes(name)) return Promise.resolve('bot');
    let pending = this.users.get(name);
    if (!pending) {
      pending = this.client
        .request<{ isBot?: boolean }>('GET', `/users/name/${encodeURIComponent(name)}`, { about: `user ${name}` })
        .then(({ body }) => (body.isBot === true ? 'bot' : 'person'))
        .catch((error: unknown) => {
          if (error instanceof OpenMetadataHttpError && error.status === 404) return `user ${name} is not in the catalog (deleted?)`;
          throw error;
        });
      this.users.set(name, pending);
    }
    return pending;
  }
}

class EditFinder {
  constructor(
    private readonly handle: ServiceHandle,
    private readonly catalog: CatalogRead,
    private readonly source: CatalogSnapshot,
    private readonly people: Authorship,
    private readonly since: number | undefined,
    private readonly result: PullResult,
    private readonly edits: { edit: PulledEdit; yamlPath: (string | number)[] }[],
  ) {}

  async visit(object: LiveObject, path: string[]): Promise<void> {
    await this.compare(object, path);
    for (const child of object.children.values()) await this.visit(child, [...path, child.name]);
  }

  private async compare(object: LiveObject, path: string[]): Promise<void> {
    const service = this.handle.service;
    const address = formatAddress(service.name, path);
    const connector = this.handle.connector;
    const desired = findDesired(this.handle.desired, path, connector);
    const live = findByName(this.source, path, connector);
    const base = { service: service.name, address, level: object.level };

    {
      const catalogValue = object.description ?? null;
      const yaml = desired?.description?.value;
      await this.consider({ ...base, property: 'description' }, catalogValue, yaml, live ? (live.description || null) : undefined, supports(connector.capabilities, 'description', object.level), desired, path);
    }
    if (object.level !== 'column') {
      const principals = this.catalog.owners.get(address) ?? [];
      const toSource = (principal: string | undefined) => (principal === undefined ? null : (service.owners.map[principal] ?? principal));
      const yaml = desired?.owners?.value;
      const can = supports(connector.capabilities, 'owner', object.level) && principals.length <= connector.capabilities.maxOwners && (principals.length > 0 || connector.capabilities.ownerRemovable);
      // Owners compare in source terms: two catalog spellings of one principal are one owner.
      await this.consider({ ...base, property: 'owners' }, principals, yaml, live ? (live.owner ?? null) : undefined, can, desired, path, toSource(principals[0]), yaml === undefined ? undefined : toSource(yaml[0]));
    }
    const catalogTags = object.tags ?? {};
    const ambiguous = this.catalog.ambiguous.get(address);
    const keys = new Set(Object.keys(catalogTags));
    for (const key of desired?.tags?.keys() ?? []) keys.add(key);
    for (const key of ambiguous?.keys() ?? []) keys.add(key);
    for (const key of keys) {
      const managed = desired?.tags?.get(key);
      const yaml = managed ? managed.value : desired?.tags && service.tags.prune ? null : undefined;
      const values = ambiguous?.get(key);
      if (values) {
        const { message, hint } = ambiguousTagMessage(address, key, values);
        this.result.unsupported.push({ ...base, property: 'tag', key, catalog: values.join(', '), yaml, reason: `${message} (${hint})` });
        continue;
      }
      const liveValue = live ? (live.tags?.[key] ?? null) : undefined;
      await this.consider({ ...base, property: 'tag', key }, catalogTags[key] ?? null, yaml, liveValue, supports(connector.capabilities, 'tags', object.level), desired, path);
    }
  }

  /**
   * `catalogValue`/`yaml` are YAML values; `sourceValue` is the source's (undefined: object absent);
   * `catalogAsSource`/`yamlAsSource` override the comparison values where YAML and source terms differ (owners).
   * The author is asked only for a value that differs, so an unchanged catalog costs no request.
   */
  private async consider(
    base: Omit<PullIssue, 'catalog' | 'yaml' | 'reason' | 'changedBy'>,
    catalogValue: YamlValue,
    yaml: YamlValue | undefined,
    sourceValue: string | null | undefined,
    capable: boolean,
    desired: DesiredObject | undefined,
    path: string[],
    catalogAsSource: string | null = catalogValue as string | null,
    yamlAsSource: string | null | undefined = yaml as string | null | undefined,
  ): Promise<void> {
    if (yaml !== undefined && yamlAsSource === catalogAsSource) return;
    if (yaml === undefined && sourceValue !== undefined && sourceValue === catalogAsSource) return;
    if (yaml === undefined && catalogAsSource === null) return;
    const property = base.property === 'owners' ? 'owner' : base.property === 'tag' ? 'tags' : 'description';
    const fields = property === 'owner' ? ['owners', 'owner'] : [property];
    const author = await this.people.authorOf(this.catalog.lastChange.get(`${base.address}#${property}`), this.catalog.locations.get(base.address), fields);
    if (author.kind === 'bot') return;
    if (author.kind === 'unknown') {
      this.result.unattributed.push({ ...base, catalog: catalogValue, yaml, ...(author.changedBy ? { changedBy: author.changedBy } : {}), reason: `who set the catalog's value cannot be known: ${author.reason}` });
      return;
    }
    if (this.since !== undefined && (author.changedAt ?? 0) < this.since) return;
    const issue: PullIssue = { ...base, catalog: catalogValue, yaml, changedBy: author.changedBy, reason: '' };
    if (!capable) {
      this.result.unsupported.push({ ...issue, reason: `${this.handle.connector.displayName} cannot hold this ${base.level} ${base.property === 'tag' ? 'tag' : base.property}${Array.isArray(catalogValue) && catalogValue.length > 1 ? ` (${catalogValue.length} owners)` : ''}` });
      return;
    }
    if (sourceValue === undefined) {
      this.result.unsupported.push({ ...issue, reason: `${base.level} ${base.address} does not exist at the source` });
      return;
    }
    if (yaml !== undefined && yamlAsSource !== sourceValue) {
      this.result.conflicts.push({ ...issue, reason: 'the YAML holds a change of this property that is not applied yet' });
      return;
    }
    const target = this.target(desired, path, base.property, base.key);
    if (!target) {
      this.result.unsupported.push({ ...issue, reason: `no YAML file declares database ${path[0]} of service ${base.service}; import it first` });
      return;
    }
    const edit: PulledEdit = { ...base, before: yaml, after: catalogValue, changedBy: author.changedBy, ...(author.changedAt ? { changedAt: author.changedAt } : {}), file: target.file };
    this.result.edits.push(edit);
    this.edits.push({ edit, yamlPath: target.yamlPath });
  }

  /** The file to write and the YAML path of the object there: where the property or the object is declared, else its nearest declared ancestor's file. */
  private target(desired: DesiredObject | undefined, path: string[], property: PulledProperty, key: string | undefined): { file: string; yamlPath: string[] } | undefined {
    const connector = this.handle.connector;
    let declared: DesiredObject | undefined;
    let depth = path.length;
    for (; depth > 0; depth--) {
      declared = depth === path.length ? desired : findDesired(this.handle.desired, path.slice(0, depth), connector);
      if (declared) break;
    }
    if (!declared) return undefined;
    const names = [...declared.path, ...path.slice(depth)];
    const file =
      (property === 'description' && declared === desired ? desired?.description?.at.file : undefined) ??
      (property === 'owners' && declared === desired ? desired?.owners?.at.file : undefined) ??
      (property === 'tag' && declared === desired && key !== undefined ? desired?.tags?.get(key)?.at.file : undefined) ??
      declared.declaredAt.file;
    return { file, yamlPath: yamlPathOf(names) };
  }
}

/** [database, schema, table, column] -> the YAML keys of that object in its file. */
function yamlPathOf(names: readonly string[]): string[] {
  const keys = ['schemas', 'tables', 'columns'];
  const path: string[] = [];
  for (let i = 1; i < names.length; i++) path.push(keys[i - 1] as string, names[i] as string);
  return path;
}

async function writeEdits(root: string, edits: { edit: PulledEdit; yamlPath: (string | number)[] }[]): Promise<string[]> {
  const byFile = new Map<string, typeof edits>();
  for (const item of edits) {
    let list = byFile.get(item.edit.file);
    if (!list) byFile.set(item.edit.file, (list = []));
    list.push(item);
  }
  const written: string[] = [];
  for (const [file, items] of byFile) {
    const path = join(root, file);
    const text = await readFile(path, 'utf8');
    const document = parseDocument(text, { uniqueKeys: false });
    const splices = items.map(({ edit, yamlPath }) => scalarSplice(document, yamlPath, edit));
    let output: string;
    if (splices.every((splice) => splice !== undefined)) output = spliceText(text, splices as Splice[]);
    else {
      // A new key, a removed key or a shorthand turned into a map: the Document writes the file.
      for (const { edit, yamlPath } of items) applyEdit(document, yamlPath, edit);
      output = document.toString({ lineWidth: 0, flowCollectionPadding: true });
    }
    if (output !== text) {
      await writeFile(path, output);
      written.push(file);
    }
  }
  return written;
}

interface Splice {
  start: number;
  end: number;
  text: string;
}

/**
 * An edit that replaces one existing scalar (a description, a tag's value) is made on the text
 * itself, so every other byte of the file (spacing before comments, quoting, blank lines) stays
 * as it was; undefined when the edit changes the structure or needs a multi-line value.
 */
function scalarSplice(document: Document, yamlPath: (string | number)[], edit: PulledEdit): Splice | undefined {
  if (edit.property === 'owners' || (edit.property === 'tag' && edit.after === null) || Array.isArray(edit.after)) return undefined;
  let node: unknown = document.contents;
  let flow = false;
  for (const key of yamlPath) {
    if (!isMap(node)) return undefined;
    flow = node.flow === true;
    node = node.get(key, true);
  }
  let scalar: unknown;
  if (edit.property === 'description') {
    if (isScalar(node)) scalar = node;
    else if (isMap(node)) {
      flow = node.flow === true;
      scalar = node.get('description', true);
    }
  } else if (isMap(node) && edit.key !== undefined) {
    const tags: unknown = node.get('tags', true);
    if (isMap(tags)) {
      flow = tags.flow === true;
      scalar = tags.get(edit.key, true);
    }
  }
  if (!isScalar(scalar) || !scalar.range || scalar.value === null || scalar.range[0] === scalar.range[1]) return undefined;
  const source = scalarSource(scalar.type, edit.after, flow);
  return source === undefined ? undefined : { start: scalar.range[0], end: scalar.range[1], text: source };
}

function scalarSource(type: Scalar.Type | undefined, value: string | null, inFlow: boolean): string | undefined {
  if (type === 'BLOCK_LITERAL' || type === 'BLOCK_FOLDED') return undefined;
  if (value === null) return 'null';
  const render = (stringType: 'PLAIN' | 'QUOTE_DOUBLE' | 'QUOTE_SINGLE') => stringify(value, { lineWidth: 0, defaultStringType: stringType }).replace(/\n$/, '');
  let source = render(type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE' ? type : 'PLAIN');
  if (inFlow && !/^["']/.test(source) && /[,[\]{}#]|: /.test(source)) source = render('QUOTE_DOUBLE');
  return source.includes('\n') ? undefined : source;
}

function spliceText(text: string, splices: Splice[]): string {
  const ordered = [...splices].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const splice of ordered) {
    out += text.slice(at, splice.start) + splice.text;
    at = splice.end;
  }
  return out + text.slice(at);
}

/** Keys holding an object's children: new properties go before them, as people write them. */
const CHILD_KEYS = new Set(['schemas', 'tables', 'columns']);

function applyEdit(document: Document, yamlPath: (string | number)[], edit: PulledEdit): void {
  const object = objectMap(document, yamlPath, edit.property === 'description' ? edit.after : undefined);
  if (!object) return; // a shorthand description was replaced in place
  if (edit.property === 'description') setKey(document, object, 'description', edit.after);
  else if (edit.property === 'owners') {
    const node = document.createNode(edit.after ?? []);
    if (isSeq(node)) node.flow = true;
    const existing = object.items.find((pair) => isScalar(pair.key) && pair.key.value === 'owners');
    if (existing) existing.value = node;
    else insertPair(document, object, 'owners', node);
  } else if (edit.key !== undefined) {
    const found: unknown = object.get('tags', true);
    let map: YAMLMap;
    if (isMap(found)) map = found;
    else {
      map = document.createNode({}) as YAMLMap;
      map.flow = true;
      const pair = object.items.find((item) => isScalar(item.key) && item.key.value === 'tags');
      if (pair) pair.value = map;
      else insertPair(document, object, 'tags', map);
    }
    if (edit.after === null && edit.before === null) return;
    if (edit.after === null && map.has(edit.key)) map.delete(edit.key);
    else setKey(document, map, edit.key, edit.after);
  }
}

/**
 * The map of the object at `yamlPath`, created (with the maps above it) when absent. A shorthand
 * (`orders: One row per order`) becomes `{ description: ... }` when another property is set; a
 * description edit of a shorthand replaces the scalar and returns undefined.
 */
function objectMap(document: Document, yamlPath: (string | number)[], description: YamlValue | undefined): YAMLMap | undefined {
  let node: unknown = document.contents;
  for (let i = 0; i < yamlPath.length; i++) {
    const key = yamlPath[i] as string;
    if (!isMap(node)) return undefined;
    const parent: YAMLMap = node;
    let child = parent.get(key, true) as unknown;
    const isObject = i % 2 === 1;
    const last = i === yamlPath.length - 1;
    if (last && isObject && (isScalar(child) || child === undefined || child === null) && description !== undefined && child !== undefined) {
      if (isScalar(child)) child.value = description;
      else parent.set(key, description);
      return undefined;
    }
    if (isScalar(child) || child === null || child === undefined) {
      const replacement = document.createNode(isObject && isScalar(child) && child.value !== null ? { description: child.value } : {}) as YAMLMap;
      if (child === undefined) insertPair(document, parent, key, replacement, true);
      else {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key) as Pair;
        pair.value = replacement;
      }
      child = replacement;
    }
    node = child;
  }
  return isMap(node) ? node : undefined;
}

function setKey(document: Document, map: YAMLMap, key: string, value: YamlValue): void {
  const existing = map.items.find((pair) => isScalar(pair.key) && pair.key.value === key);
  if (existing && isScalar(existing.value) && !Array.isArray(value)) existing.value.value = value;
  else if (existing) existing.value = document.createNode(value);
  else insertPair(document, map, key, document.createNode(value) as Node);
}

function insertPair(document: Document, map: YAMLMap, key: string, value: Node, atEnd = false): void {
  const pair = document.createPair(key, value);
  const index = atEnd ? -1 : map.items.findIndex((item) => isScalar(item.key) && CHILD_KEYS.has(String(item.key.value)));
  if (index === -1) map.items.push(pair);
  else map.items.splice(index, 0, pair);
}

/** `pull --branch`: the written files committed on a new branch, ready for a pull request. */
export async function commitPulledEdits(root: string, branch: string, files: readonly string[], message = 'metaform pull: catalog edits from OpenMetadata'): Promise<{ branch: string; commit: string }> {
  const git = simpleGit(root);
  await git.checkoutLocalBranch(branch);
  await git.add([...files]);
  const result = await git.commit(message, [...files]);
  return { branch, commit: result.commit };
}

/** The pulled edits as lines a person reads: `~ address description: "old" -> "new" (by jane)`. */
export function describePull(result: PullResult): string[] {
  const show = (value: YamlValue | undefined) => (value === undefined ? '(unmanaged)' : JSON.stringify(value));
  const what = (item: { property: PulledProperty; key?: string }) => (item.property === 'tag' ? `tag ${item.key}` : item.property);
  return [
    ...result.edits.map((edit) => `~ ${edit.address} ${what(edit)}: ${show(edit.before)} -> ${show(edit.after)}${edit.changedBy ? ` (by ${edit.changedBy})` : ''} [${edit.file}]`),
    ...result.conflicts.map((issue) => `! ${issue.address} ${what(issue)}: conflict: ${issue.reason}; catalog ${show(issue.catalog)}, YAML ${show(issue.yaml)}`),
    ...result.unsupported.map((issue) => `- ${issue.address} ${what(issue)}: not written: ${issue.reason}`),
    ...result.unattributed.map((issue) => `? ${issue.address} ${what(issue)}: not written: ${issue.reason}; catalog ${show(issue.catalog)}, YAML ${show(issue.yaml)}`),
  ];
}
