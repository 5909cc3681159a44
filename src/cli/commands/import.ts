import { access, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MetaformError } from '../../core/errors.js';
import { importService } from '../../core/import.js';
import { EXIT, load, output, type GlobalOptions } from '../context.js';

export interface ImportCliOptions extends GlobalOptions {
  service: string;
  from: 'source' | 'openmetadata';
  database?: string[];
  stdout?: boolean;
  force?: boolean;
}

export async function importCommand(options: ImportCliOptions): Promise<number> {
  const io = output(options);
  if (options.from === 'openmetadata')
    throw new MetaformError('import --from openmetadata is not available yet', undefined, 'import from the source database with --from source');
  // The metadata folder may not exist yet: import is what fills it.
  const project = await load(options, { allowMissingMetadata: true });
  const files = await importService(project, options.service, options.database ? { databases: options.database } : {});
  for (const file of files) {
    if (options.stdout) {
      io.out(file.content);
      continue;
    }
    const path = join(project.config.root, file.path);
    const exists = await access(path).then(() => true, () => false);
    if (exists && !options.force) throw new MetaformError(`${file.path} exists`, undefined, 'pass --force to overwrite it, or --stdout to print instead');
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content);
    io.out(`Wrote ${file.path}`);
  }
  return EXIT.ok;
}
