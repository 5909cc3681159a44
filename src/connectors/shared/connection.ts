/**
 * JSON Schemas of the connection settings a connector knows, checked before anything connects
 * (src/core/validate.ts). Settings a schema does not list pass to the driver as written. Each
 * property's `description` is what the error says the value must be.
 */

/** 1 to 65535, as a number or as the decimal text ${VAR} interpolation gives. */
const PORT_TEXT = '^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$';

export const PORT_SETTING = {
  description: 'a port number from 1 to 65535',
  anyOf: [
    { type: 'integer', minimum: 1, maximum: 65535 },
    { type: 'string', pattern: PORT_TEXT },
  ],
} as const;

const TEXT_SETTING = (what: string) => ({ description: what, type: 'string', minLength: 1 }) as const;
const BOOLEAN_SETTING = { description: 'true or false (unquoted)', type: 'boolean' } as const;

/** A connection schema: the listed settings typed, any other passed through. */
export function connectionSchema(settings: { text?: Record<string, string>; booleans?: readonly string[]; port?: boolean }): object {
  const properties: Record<string, object> = {};
  if (settings.port !== false) properties['port'] = PORT_SETTING;
  for (const [name, what] of Object.entries(settings.text ?? {})) properties[name] = TEXT_SETTING(what);
  for (const name of settings.booleans ?? []) properties[name] = BOOLEAN_SETTING;
  return { type: 'object', properties };
}

/** host, user, database, password of a client that takes them separately. */
export const HOST_SETTINGS = { host: 'a host name or address (not empty)', user: 'a user name (not empty)', database: 'a database name (not empty)' } as const;
