import { access, appendFile, copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetaformError } from '../../core/errors.js';
import { EXIT, output, projectDir, type GlobalOptions } from '../context.js';

export const SCAFFOLD = fileURLToPath(new URL('../../../scaffold/', import.meta.url));

async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

/** Scaffolds metaform.yaml, metadata/, a CI workflow, and git-ignores the journal. */
export async function initCommand(options: GlobalOptions & { force?: boolean }): Promise<number> {
  const io = output(options);
  const root = projectDir(options);
  // As git -C: a folder that does not exist is a mistyped path, not one to create.
  if (!(await access(root).then(() => true, () => false))) throw new MetaformError(`project folder ${root} does not exist`, undefined, 'create it first, or check -C/--dir');
  const files = await filesBelow(SCAFFOLD);
  const exists = async (path: string) => access(join(root, path)).then(() => true, () => false);
  const clashes = [];
  for (const file of files) if (await exists(file)) clashes.push(file);
  if (clashes.length > 0 && !options.force)
    throw new MetaformError(`${clashes.join(', ')} already exist${clashes.length === 1 ? 's' : ''} in ${root}`, undefined, 'pass --force to overwrite');
  for (const file of files) {
    const overwritten = clashes.includes(file);
    await mkdir(dirname(join(root, file)), { recursive: true });
    await copyFile(join(SCAFFOLD, file), join(root, file));
    io.out(`${overwritten ? 'Overwrote' : 'Created'} ${file}`);
  }
  const gitignore = join(root, '.gitignore');
  const ignored = await readFile(gitignore, 'utf8').catch(() => '');
  if (!ignored.split('\n').includes('.metaform/')) {
    await appendFile(gitignore, `${ignored && !ignored.endsWith('\n') ? '\n' : ''}.metaform/\n`);
    io.out('Added .metaform/ to .gitignore');
  }
  io.out('\nNext: edit metaform.yaml, then `metaform import --service warehouse --force` and `metaform plan`.');
  return EXIT.ok;
}
