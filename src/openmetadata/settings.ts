import { MetaformError } from '../core/errors.js';
import type { Project } from '../core/project.js';
import { OpenMetadataClient, type ClientOptions } from './client.js';

/**
 * The `openmetadata:` block of metaform.yaml. config.ts reads url and token; `push`,
 * `createTags` and `botUsers` are read here from the same block until the schema carries them.
 */
export interface OpenMetadataSettings {
  url: string;
  token?: string;
  /** Patch the catalog after apply. */
  push: boolean;
  /** Create a missing classification or tag when pushing a tag (default false). */
  createTags: boolean;
  /** User names whose catalog edits are metaform's own (its bot), besides users flagged isBot. */
  botUsers: string[];
}

export function openMetadataSettings(project: Project): OpenMetadataSettings {
  const raw = project.config.openmetadata as (Record<string, unknown> & { url: string; token?: string }) | undefined;
  if (!raw) throw new MetaformError('no OpenMetadata server is configured', undefined, 'add openmetadata: { url: ${OPENMETADATA_URL}, token: ${OPENMETADATA_TOKEN} } to metaform.yaml');
  // An unset ${VAR} interpolates to an empty string.
  for (const key of ['url', 'token'] as const)
    if (raw[key] === '')
      throw new MetaformError(`openmetadata.${key} is empty`, project.config.file.locate(['openmetadata', key]), 'set the environment variable it reads (a bot JWT or a personal access token for the token)');
  const botUsers = Array.isArray(raw['botUsers']) ? raw['botUsers'].filter((name): name is string => typeof name === 'string') : [];
  return {
    url: raw.url,
    ...(raw.token ? { token: raw.token } : {}),
    push: raw['push'] === true,
    createTags: raw['createTags'] === true,
    botUsers,
  };
}

export async function connectCatalog(project: Project, options: ClientOptions = {}): Promise<OpenMetadataClient> {
  const settings = openMetadataSettings(project);
  return OpenMetadataClient.connect({ url: settings.url, ...(settings.token ? { token: settings.token } : {}) }, options);
}
