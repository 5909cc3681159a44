import type { OpenMetadataConfig } from '../core/config.js';
import { formatLocation, MetaformError } from '../core/errors.js';
import type { Project } from '../core/project.js';
import { OpenMetadataClient, type ClientOptions } from './client.js';

/** The `openmetadata:` block of metaform.yaml (typed and defaulted by config.ts). */
export type OpenMetadataSettings = Omit<OpenMetadataConfig, 'literalToken'>;

export function openMetadataSettings(project: Project): OpenMetadataSettings {
  const config = project.config.openmetadata;
  if (!config) throw new MetaformError('no OpenMetadata server is configured', undefined, 'add openmetadata: { url: ${OPENMETADATA_URL}, token: ${OPENMETADATA_TOKEN} } to metaform.yaml');
  // An unset ${VAR} interpolates to an empty string.
  for (const key of ['url', 'token'] as const)
    if (config[key] === '')
      throw new MetaformError(`openmetadata.${key} is empty`, project.config.file.locate(['openmetadata', key]), 'set the environment variable it reads (a bot JWT or a personal access token for the token)');
  return {
    url: config.url,
    ...(config.token ? { token: config.token } : {}),
    push: config.push,
    createTags: config.createTags,
    botUsers: config.botUsers,
  };
}

/** What a user should fix in the `openmetadata:` block, without stopping the command (never showing the token). */
export function openMetadataWarnings(project: Project): string[] {
  const config = project.config.openmetadata;
  if (!config?.literalToken) return [];
  return [
    `${formatLocation(project.config.file.locate(['openmetadata', 'token']))}: openmetadata.token is written in the file; a token is a secret and must not be kept in git: write token: \${OPENMETADATA_TOKEN} and set that variable`,
  ];
}

export async function connectCatalog(project: Project, options: ClientOptions = {}): Promise<OpenMetadataClient> {
  const settings = openMetadataSettings(project);
  return OpenMetadataClient.connect({ url: settings.url, ...(settings.token ? { token: settings.token } : {}) }, options);
}
