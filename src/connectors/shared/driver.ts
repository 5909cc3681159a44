import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MetaformError } from '../../core/errors.js';

function isNotFound(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((error as Error).message).includes(name);
}

/**
 * Imports a database client that is loaded only when a service of its type connects: from
 * metaform's own installation, else from the project folder (`from`, the working directory by
 * default). The GitHub Action's bundle leaves out the clients that ship native binaries, so a
 * workflow installs them in the project, and they are found there.
 */
export async function importDriver<T>(name: string, load: () => Promise<T>, from: string = process.cwd()): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (!isNotFound(error, name)) throw error;
  }
  let resolved: string;
  try {
    resolved = createRequire(join(from, 'package.json')).resolve(name);
  } catch {
    throw new MetaformError(`the ${name} client is not installed`, undefined, `install it beside metaform or in the project: npm install ${name}`);
  }
  return (await import(pathToFileURL(resolved).href)) as T;
}
