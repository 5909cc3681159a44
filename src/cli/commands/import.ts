import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MetaformError } from '../../core/errors.js';
import { importService, otherDefiningFiles, type ImportedFile } from '../../core/import.js';
import { importFromCatalog } from '../../openmetadata/import.js';
import { EXIT, load, output, type GlobalOptions } from '../context.js';
import { SCAFFOLD } from './init.js';
import { warnAboutCatalog } from './pull.js';

export interface ImportCliOptions extends GlobalOptions {
  service: string;
  from: 'source' | 'openmetadata';
  database?: string[];
  stdout?: boolean;
  force?: boolean;
}

/** The metadata file `init` scaffolds, when it is still exactly as scaffolded and for this service. */
async function untouchedExample(root: string, service: string): Promise<string | undefined> {
  const path = join('metadata', 'warehouse.yaml');
  const [scaffolded, current] = await Promise.all([readFile(join(SCAFFOLD, path), 'utf8'), readFile(join(root, path), 'utf8').catch(() => undefined)]);
  return current === scaffolded && /^service: (\S+)$/m.exec(current)?.[1] === service ? path : undefined;
}

export async function importCommand(options: ImportCliOptions): Promise<number> {
  const io = output(options);
  // The metadata folder may not exist yet: import is what fills it.
  const project = await load(options, { allowMissingMetadata: true });
  const databases = options.database ? { databases: options.database } : {};
  let files: ImportedFile[];
  if (options.from === 'openmetadata') {
    warnAboutCatalog(project, io);
    // Values the source cannot hold are left out of the YAML: said, not fatal.
    files = await importFromCatalog(project, options.service, { ...databases, onSkipped: (message) => io.err(`${io.errColors.yellow('Warning:')} ${message}`) });
  } else files = await importService(project, options.service, databases);
  if (files.length === 0)
    throw new MetaformError(`service ${options.service}: nothing to import: the source has none of the databases asked for`, undefined, 'name them with -d, or in services.<name>.databases');
  if (options.stdout) {
    // Several databases are several YAML documents: separated, so that the output parses.
    files.forEach((file, i) => io.out(i > 0 ? `---\n${file.content}` : file.content));
    return EXIT.ok;
  }
  const example = await untouchedExample(project.config.root, options.service);
  const defined = files.flatMap((file) => {
    const others = file.database === undefined ? [] : otherDefiningFiles(project, options.service, file.database, file.path).filter((path) => path !== example);
    return others.length > 0 ? [`database ${file.database} of service ${options.service} is already defined in ${others.join(', ')}`] : [];
  });
  if (defined.length > 0)
    throw new MetaformError(
      `${defined.join('; ')}: import would write ${files.length === 1 ? 'a file' : 'files'} defining it twice`,
      undefined,
      'edit those files, or print the import with --stdout and merge what you need by hand',
    );
  for (const file of files) {
    const path = join(project.config.root, file.path);
    const exists = await access(path).then(() => true, () => false);
    if (exists && !options.force) throw new MetaformError(`${file.path} exists`, undefined, 'pass --force to overwrite it, or --stdout to print instead');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    io.out(`Wrote ${file.path}`);
  }
  if (example !== undefined && files.length > 0) {
    // The example `init` wrote names a database of its own (analytics): left, plan would read it.
    await rm(join(project.config.root, example));
    io.out(`Removed ${example} (the example from \`metaform init\`, unchanged)`);
  }
  return EXIT.ok;
}
