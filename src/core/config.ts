import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { JsonValue, SourceLocation } from './model.js';
import type { ServiceConfig } from './connector.js';
import { interpolate } from './env.js';
import { MetaformError, MetaformErrors } from './errors.js';
import { schemaValidator } from './schemas.js';
import { readFailure, YamlFile } from './yaml-file.js';

export const CONFIG_FILE = 'metaform.yaml';

export interface ServiceEntry {
  config: ServiceConfig;
  location: SourceLocation;
  /** Environment variables the connection needs that are not set (reported when connecting). */
  missingVariables: string[];
  /** Where the first of them is written (the `${VAR}` line). */
  missingAt?: SourceLocation;
}

export interface ProjectConfig {
  root: string;
  file: YamlFile;
  metadataDirs: string[];
  stateDir: string;
  services: Map<string, ServiceEntry>;
  openmetadata?: OpenMetadataConfig;
}

/** The `openmetadata:` block, interpolated, with its defaults. */
export interface OpenMetadataConfig {
  url: string;
  /** Interpolated from ${VAR}: never printed, journaled or put in a plan. */
  token?: string;
  /** apply also patches the catalog (default false). */
  push: boolean;
  /** push may create a missing classification or tag (default false). */
  createTags: boolean;
  /** Catalog users whose edits are metaform's own, besides users flagged isBot. */
  botUsers: string[];
  /** The token is written as a literal in metaform.yaml instead of ${VAR} (a secret in git): warned about. */
  literalToken: boolean;
}

interface RawOpenMetadata {
  url: string;
  token?: string;
  push?: boolean;
  createTags?: boolean;
  botUsers?: string[];
}

interface RawService {
  type: string;
  connection?: Record<string, JsonValue>;
  databases?: string[];
  tags?: { prune?: boolean };
  owners?: { map?: Record<string, string> };
  templates?: Record<string, string>;
  options?: Record<string, JsonValue>;
}

interface RawConfig {
  version: 1;
  metadata?: string[];
  state?: string;
  services: Record<string, RawService>;
  openmetadata?: RawOpenMetadata;
}

export async function loadConfig(root: string, env: NodeJS.ProcessEnv = process.env): Promise<ProjectConfig> {
  const path = join(resolve(root), CONFIG_FILE);
  try {
    await access(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw readFailure(error, path);
    if (!(await access(resolve(root)).then(() => true, () => false)))
      throw new MetaformError(`project folder ${resolve(root)} does not exist`, undefined, 'check -C/--dir');
    throw new MetaformError(`no ${CONFIG_FILE} in ${resolve(root)}`, undefined, 'run `metaform init` to create one, or pass --dir');
  }
  const file = await YamlFile.read(path, resolve(root));
  const raw = file.toJS();
  const validate = schemaValidator('config');
  if (!validate(raw)) throw new MetaformErrors(file.schemaErrors(validate.errors ?? []));
  const config = raw as RawConfig;

  refuseReferencesOutsideConnections(file, raw as JsonValue);
  const services = new Map<string, ServiceEntry>();
  for (const [name, service] of Object.entries(config.services)) {
    const missing: string[] = [];
    const missingPaths: (string | number)[][] = [];
    const connection = interpolateTree(service.connection ?? {}, env, missing, ['services', name, 'connection'], missingPaths) as Record<string, JsonValue>;
    const [firstMissing] = missingPaths;
    services.set(name, {
      location: file.locate(['services', name], true),
      missingVariables: [...new Set(missing)],
      ...(firstMissing ? { missingAt: file.locate(firstMissing) } : {}),
      config: {
        name,
        type: service.type,
        connection,
        ...(service.databases ? { databases: service.databases } : {}),
        tags: { prune: service.tags?.prune ?? true },
        owners: { map: service.owners?.map ?? {} },
        templates: service.templates ?? {},
        options: service.options ?? {},
      },
    });
  }
  const openmetadata = config.openmetadata ? openMetadataConfig(config.openmetadata, env) : undefined;
  return {
    root: resolve(root),
    file,
    metadataDirs: config.metadata ?? ['metadata'],
    stateDir: config.state ?? '.metaform',
    services,
    ...(openmetadata ? { openmetadata } : {}),
  };
}

function openMetadataConfig(raw: RawOpenMetadata, env: NodeJS.ProcessEnv): OpenMetadataConfig {
  const token = raw.token === undefined ? undefined : interpolate(raw.token, env).value;
  return {
    url: interpolate(raw.url, env).value,
    ...(token !== undefined ? { token } : {}),
    push: raw.push ?? false,
    createTags: raw.createTags ?? false,
    botUsers: raw.botUsers ?? [],
    // A token is a secret: only a reference to the environment belongs in a file kept in git.
    literalToken: raw.token !== undefined && raw.token !== '' && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(raw.token.trim()),
  };
}

function interpolateTree(value: JsonValue, env: NodeJS.ProcessEnv, missing: string[], path: (string | number)[] = [], missingPaths: (string | number)[][] = []): JsonValue {
  if (typeof value === 'string') {
    const result = interpolate(value, env);
    for (const name of result.missing) missing.push(name);
    if (result.missing.length > 0) missingPaths.push(path);
    return result.value;
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolateTree(item, env, missing, [...path, i], missingPaths));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolateTree(item, env, missing, [...path, key], missingPaths)]));
  return value;
}

/**
 * `${VAR}` is read in `services.<name>.connection` and `openmetadata.url`/`token` only: anywhere
 * else (`databases:`, `state:`, templates) it would be taken literally without a word.
 */
function refuseReferencesOutsideConnections(file: YamlFile, raw: JsonValue): void {
  const errors: MetaformError[] = [];
  const visit = (value: JsonValue, path: (string | number)[]) => {
    if (path[0] === 'services' && path[2] === 'connection') return;
    if (path[0] === 'openmetadata' && (path[1] === 'url' || path[1] === 'token')) return;
    if (typeof value === 'string') {
      if (/\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}/.test(value.replaceAll('$${', '')))
        errors.push(
          new MetaformError(
            `${path.join('.')}: \${VAR} is read only in services.<name>.connection and openmetadata.url/token; here it would be taken literally`,
            file.locate(path),
            'write the value itself, or set it from your shell when generating metaform.yaml (write $${ for a literal ${)',
          ),
        );
    } else if (Array.isArray(value)) value.forEach((item, i) => visit(item, [...path, i]));
    else if (value && typeof value === 'object') for (const [key, item] of Object.entries(value)) visit(item, [...path, key]);
  };
  visit(raw, []);
  if (errors.length > 0) throw new MetaformErrors(errors);
}
