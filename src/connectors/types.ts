/**
 * The connector contract lives in the core (src/core/connector.ts); this re-export keeps the
 * connectors' `../types.js` imports working.
 */
export type * from '../core/connector.js';
