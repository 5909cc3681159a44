import { resolve } from 'node:path';
import { MetaformError, MetaformErrors } from '../core/errors.js';
import { loadProject, type Project } from '../core/project.js';
import { colorsFor, type Colors } from '../report/style.js';

export const EXIT = { ok: 0, error: 1, changes: 2 } as const;

export interface GlobalOptions {
  dir: string;
  color?: boolean;
}

export interface Output {
  colors: Colors;
  errColors: Colors;
  out(text: string): void;
  err(text: string): void;
}

export function output(options: GlobalOptions): Output {
  const noColor = options.color === false;
  return {
    colors: colorsFor(process.stdout, noColor ? false : undefined),
    errColors: colorsFor(process.stderr, noColor ? false : undefined),
    out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
    err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

export function projectDir(options: GlobalOptions): string {
  return resolve(options.dir);
}

export function load(options: GlobalOptions): Promise<Project> {
  return loadProject(projectDir(options));
}

/** Every error a user can act on, printed as `file:line:col: message`; anything else with its stack under DEBUG. */
export function reportError(error: unknown, io: Output): number {
  const paint = io.errColors;
  if (error instanceof MetaformErrors) {
    for (const each of error.errors) io.err(`${paint.red('Error:')} ${each.toString()}`);
    io.err(`${error.errors.length} errors.`);
  } else if (error instanceof MetaformError) io.err(`${paint.red('Error:')} ${error.toString()}`);
  else if (error instanceof Error) io.err(`${paint.red('Error:')} ${process.env['DEBUG'] ? error.stack : error.message}`);
  else io.err(`${paint.red('Error:')} ${String(error)}`);
  return EXIT.error;
}
