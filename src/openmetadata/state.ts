import type { CatalogSnapshot } from '../core/model.js';
import type { Project } from '../core/project.js';
import { readCatalog, type LastChange } from './catalog.js';
import type { ClientOptions, OpenMetadataClient } from './client.js';
import { connectCatalog } from './settings.js';
import { serviceHandle } from './source.js';

export interface CatalogState {
  /**
   * The catalog's values as a live snapshot in metaform's terms (source names, owners mapped to
   * source principals, tags as key -> value): `diffService({ desired, snapshot })` gives the
   * YAML-vs-catalog side of a three-way drift, exactly as the source snapshot gives YAML-vs-source.
   */
  snapshot: CatalogSnapshot;
  /** `<address>#description|owner|tags` -> who changed that field last, and how (Manual, Ingested...). */
  lastChange: Map<string, LastChange>;
  /** Address -> the catalog's FQN of the entity or column. */
  fqns: Map<string, string>;
  /** HTTP requests the read took. */
  requests: number;
}

/** The catalog's values per address for one service, in bulk (databases the YAML names, else all). */
export async function catalogState(project: Project, serviceName: string, options: { client?: OpenMetadataClient } & ClientOptions = {}): Promise<CatalogState> {
  const handle = serviceHandle(project, serviceName);
  const client = options.client ?? (await connectCatalog(project, options));
  const databases = [...handle.desired.values()].map((database) => database.path[0] as string);
  const read = await readCatalog(client, handle.service, databases.length > 0 ? { databases } : {});
  return { snapshot: read.snapshot, lastChange: read.lastChange, fqns: read.fqns, requests: read.requests };
}
