/** OpenMetadata as a peer: import from the catalog, push applied state, pull people's edits, catalog state for drift. */
export { OpenMetadataClient, OpenMetadataHttpError, type ClientOptions, type ServerFacts } from './client.js';
export { buildFqn, splitFqn, catalogName, sourceName, quoteFqnPart } from './fqn.js';
export { readCatalog, type CatalogRead, type LastChange } from './catalog.js';
export { importFromCatalog, type CatalogImportOptions } from './import.js';
export { pushApplied, pendingCatalogChanges, appliedChanges, type CatalogWriteResult, type PushOptions } from './push.js';
export { pullCatalogEdits, commitPulledEdits, describePull, type PullResult, type PulledEdit, type PullIssue, type PullOptions } from './pull.js';
export { catalogState, type CatalogState } from './state.js';
export { openMetadataSettings, connectCatalog, type OpenMetadataSettings } from './settings.js';
export { threeWayDrift, type ThreeWayRow, type ThreeWayInput } from './drift.js';
export { serviceHandle, readSource, type ServiceHandle } from './source.js';
