import { connectorFor as registeredConnector } from '../connectors/registry.js';
import type { Connector } from './connector.js';
import { loadConfig, type ProjectConfig } from './config.js';
import { listMetadataFiles, loadDesired, type DesiredState } from './desired.js';
import type { Level } from './model.js';
import { validateCapabilities } from './validate.js';

/** A loaded, validated project: configuration plus desired state. */
export interface Project {
  config: ProjectConfig;
  desired: DesiredState;
  files: string[];
  connectorFor: (type: string) => Connector | undefined;
}

export interface LoadProjectOptions {
  env?: NodeJS.ProcessEnv;
  /** Overrides the registry (tests plug in extra connectors). */
  connectorFor?: (type: string) => Connector | undefined;
  /** A metadata folder that does not exist holds nothing instead of being an error (import creates it). */
  allowMissingMetadata?: boolean;
}

/** Loads metaform.yaml and the metadata files and validates both; no connection is made. */
export async function loadProject(root: string, options: LoadProjectOptions = {}): Promise<Project> {
  const connectorFor = options.connectorFor ?? registeredConnector;
  const config = await loadConfig(root, options.env ?? process.env);
  const files = await listMetadataFiles(config.root, config.metadataDirs, { configFile: config.file, allowMissing: options.allowMissingMetadata ?? false });
  const canonicalName = (service: string, name: string, level: Level) => {
    const type = config.services.get(service)?.config.type;
    const connector = type ? connectorFor(type) : undefined;
    return connector?.canonicalName?.(name, level) ?? name;
  };
  const desired = await loadDesired({ root: config.root, files, services: new Set(config.services.keys()), canonicalName });
  validateCapabilities(config, desired, connectorFor);
  return { config, desired, files, connectorFor };
}
