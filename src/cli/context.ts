import { resolve } from 'node:path';
import { emptyMetadataFolders } from '../core/desired.js';
import { formatLocation, MetaformError, MetaformErrors } from '../core/errors.js';
import { loadProject, type LoadProjectOptions, type Project } from '../core/project.js';
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

/** Streams whose reader went away (`metaform plan | head -1`): what is left to print is dropped. */
const closed = new Set<NodeJS.WriteStream>();
const watched = new Set<NodeJS.WriteStream>();

/**
 * A closed pipe is the reader's choice, not an error: without a listener Node throws EPIPE with a
 * stack. The command still runs to its end (an apply must finish and write its journal).
 */
function dropOutputOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (watched.has(stream)) return;
  watched.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    closed.add(stream);
  });
}

function writeLine(stream: NodeJS.WriteStream, text: string): void {
  if (!closed.has(stream)) stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function output(options: GlobalOptions): Output {
  const noColor = options.color === false;
  dropOutputOnClosedPipe(process.stdout);
  dropOutputOnClosedPipe(process.stderr);
  return {
    colors: colorsFor(process.stdout, noColor ? false : undefined),
    errColors: colorsFor(process.stderr, noColor ? false : undefined),
    out: (text) => writeLine(process.stdout, text),
    err: (text) => writeLine(process.stderr, text),
  };
}

export function projectDir(options: GlobalOptions): string {
  return resolve(options.dir);
}

/** Loads the project; warnings (a metadata folder with no YAML file) go to stderr. */
export async function load(options: GlobalOptions, loadOptions: LoadProjectOptions = {}): Promise<Project> {
  const project = await loadProject(projectDir(options), loadOptions);
  const io = output(options);
  // Import is what fills an empty metadata folder: no warning about it there.
  if (!loadOptions.allowMissingMetadata)
    for (const warning of projectWarnings(project)) io.err(`${io.errColors.yellow('Warning:')} ${warning}`);
  return project;
}

function projectWarnings(project: Project): string[] {
  const { root, metadataDirs, file } = project.config;
  const empty = new Set(emptyMetadataFolders(root, metadataDirs, project.files));
  return metadataDirs.flatMap((dir, i) =>
    empty.has(dir)
      ? [`${formatLocation(file.locate(['metadata', i]))}: metadata folder "${dir}" holds no *.yaml file: nothing is managed from it (add files, or \`metaform import\`)`]
      : [],
  );
}

/** Every error a user can act on, printed as `file:line:col: message`; anything else with its stack under DEBUG. */
export function reportError(error: unknown, io: Output): number {
  const paint = io.errColors;
  if (error instanceof MetaformErrors) {
    for (const each of error.errors) io.err(`${paint.red('Error:')} ${each.toString()}`);
    io.err(`${error.errors.length} error${error.errors.length === 1 ? '' : 's'}.`);
  } else if (error instanceof MetaformError) io.err(`${paint.red('Error:')} ${error.toString()}`);
  else if (error instanceof Error) io.err(`${paint.red('Error:')} ${process.env['DEBUG'] ? error.stack : error.message}`);
  else io.err(`${paint.red('Error:')} ${String(error)}`);
  return EXIT.error;
}
