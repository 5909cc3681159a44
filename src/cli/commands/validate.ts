import { walkDesired } from '../../core/desired.js';
import { ErrorList } from '../../core/errors.js';
import { unknownPlaceholders } from '../../core/templates.js';
import { EXIT, load, output, type GlobalOptions } from '../context.js';

/** Schemas, capabilities, conflicts and templates; no connection is made. */
export async function validateCommand(options: GlobalOptions): Promise<number> {
  const io = output(options);
  const project = await load(options);
  const errors = new ErrorList();
  for (const [name, entry] of project.config.services)
    for (const [key, template] of Object.entries(entry.config.templates))
      for (const placeholder of unknownPlaceholders(template))
        errors.add(`template ${key} of service ${name} uses unknown placeholder ${placeholder}`, project.config.file.locate(['services', name, 'templates', key]));
  errors.throwIfAny();
  let objects = 0;
  for (const databases of project.desired.values()) for (const _ of walkDesired(databases)) objects++;
  io.out(`Valid: ${project.config.services.size} service${project.config.services.size === 1 ? '' : 's'}, ${project.files.length} metadata file${project.files.length === 1 ? '' : 's'}, ${objects} object${objects === 1 ? '' : 's'}.`);
  return EXIT.ok;
}
