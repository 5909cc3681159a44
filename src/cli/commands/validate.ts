import { walkDesired } from '../../core/desired.js';
import { ErrorList, formatLocation } from '../../core/errors.js';
import type { Project } from '../../core/project.js';
import { rawPlaceholders, unknownPlaceholders } from '../../core/templates.js';
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
  for (const warning of rawPlaceholderWarnings(project)) io.err(`${io.errColors.yellow('Warning:')} ${warning}`);
  let objects = 0;
  for (const databases of project.desired.values()) for (const _ of walkDesired(databases)) objects++;
  io.out(`Valid: ${project.config.services.size} service${project.config.services.size === 1 ? '' : 's'}, ${project.files.length} metadata file${project.files.length === 1 ? '' : 's'}, ${objects} object${objects === 1 ? '' : 's'}.`);
  return EXIT.ok;
}

/** Each {raw.*} placeholder: legal, but its user text reaches SQL unescaped. */
function rawPlaceholderWarnings(project: Project): string[] {
  const warnings: string[] = [];
  for (const [name, entry] of project.config.services)
    for (const [key, template] of Object.entries(entry.config.templates)) {
      const seen = new Map<string, number>();
      for (const placeholder of rawPlaceholders(template)) {
        const occurrence = seen.get(placeholder) ?? 0;
        seen.set(placeholder, occurrence + 1);
        const at = project.config.file.locateInValue(['services', name, 'templates', key], placeholder, occurrence);
        const quoted = placeholder.replace('raw.', '');
        warnings.push(
          `${formatLocation(at)}: template ${key} of service ${name} uses ${placeholder}: the text is put into the SQL unescaped, ` +
            `so a value with a quote breaks the statement or runs SQL of its author's choosing; use ${quoted} unless the text is trusted SQL`,
        );
      }
    }
  return warnings;
}
