#!/usr/bin/env node
import { Command, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../core/version.js';
import { output, reportError, type GlobalOptions } from './context.js';
import { installSignalHandlers } from './signals.js';
import { applyCommand } from './commands/apply.js';
import { demoCommand } from './commands/demo.js';
import { driftCommand } from './commands/drift.js';
import { importCommand } from './commands/import.js';
import { initCommand } from './commands/init.js';
import { planCommand } from './commands/plan.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { statusCommand } from './commands/status.js';
import { validateCommand } from './commands/validate.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const formatOption = () => new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text');
const serviceOption = () => new Option('-s, --service <name>', 'only this service (repeatable)').argParser(collect);

export function buildProgram(): Command {
  const program = new Command('metaform')
    .description('Terraform for database metadata: descriptions, owners and tags as YAML in git.')
    .version(VERSION)
    .option('-C, --dir <path>', 'project directory (holding metaform.yaml)', '.')
    .option('--no-color', 'plain output even on a terminal')
    .showHelpAfterError()
    .addHelpText(
      'after',
      '\nExit codes: 0 ok or no changes (apply: also when every change of the plan is skipped, which it says), 1 error\n' +
        '(apply: also when the answer at the prompt is not yes),\n' +
        '2 changes or drift (plan --detailed-exitcode, drift; skipped changes count as changes), 130/143 apply stopped by SIGINT/SIGTERM.',
    );

  /** Runs a command with the global options merged in, mapping its result to the exit code. */
  const run =
    <A extends unknown[]>(action: (...args: A) => Promise<number>) =>
    async (...args: A) => {
      const globals = program.opts<GlobalOptions>();
      try {
        process.exitCode = await action(...args);
      } catch (error) {
        process.exitCode = reportError(error, output(globals));
      }
    };
  const merged = <T>(options: T): T & GlobalOptions => ({ ...program.opts<GlobalOptions>(), ...options });

  program
    .command('init')
    .description('scaffold metaform.yaml, metadata/ and a CI workflow')
    .option('--force', 'overwrite existing files')
    .action(run(async (options: { force?: boolean }) => initCommand(merged(options))));

  program
    .command('validate')
    .description('check schemas, capabilities, conflicts and templates (no connection)')
    .action(run(async () => validateCommand(merged({}))));

  program
    .command('plan')
    .description('read live state and show the changes apply would make')
    .addOption(serviceOption())
    .option('-o, --out <file>', 'save the plan as JSON for `metaform apply <file>`')
    .addOption(formatOption())
    .option('--detailed-exitcode', 'exit 2 when there are changes')
    .option('--allow-missing', 'objects missing at the source are warnings, not errors')
    .action(run(async (options) => planCommand(merged(options))));

  program
    .command('apply')
    .description('apply a saved plan, or plan and apply after confirmation')
    .argument('[plan]', 'a plan saved with `metaform plan --out`; refused if the source changed since')
    .addOption(serviceOption())
    .option('--auto-approve', 'apply without asking')
    .option('--allow-missing', 'objects missing at the source are warnings, not errors')
    .action(run(async (plan: string | undefined, options) => applyCommand(plan, merged({ ...options, format: 'text' }))));

  program
    .command('drift')
    .description('compare live state with the YAML; exit 2 on drift')
    .addOption(serviceOption())
    .addOption(formatOption())
    .option('--no-catalog', 'with openmetadata: configured, compare the YAML with the source only (not three-way)')
    .addHelpText('after', '\nWith openmetadata: in metaform.yaml, drift is three-way: for each managed property the YAML, the source\nand the catalog side by side, which differs, and who changed the catalog last. Exit 2 on any drift.')
    .action(run(async (options) => driftCommand(merged(options))));

  program
    .command('import')
    .description('write YAML from what a service has')
    .requiredOption('-s, --service <name>', 'the service to import')
    .addOption(new Option('--from <origin>', 'where to read').choices(['source', 'openmetadata']).default('source'))
    .option('-d, --database <name>', 'only this database (repeatable)', collect)
    .option('--stdout', 'print the YAML instead of writing files')
    .option('--force', 'overwrite existing files')
    .action(run(async (options) => importCommand(merged(options))));

  program
    .command('pull')
    .description("write people's OpenMetadata edits into the YAML files in place, for review")
    .addOption(serviceOption())
    .option('--since <time>', 'only edits made at or after this ISO 8601 time (default: the start of the last apply, else all)')
    .option('--branch <name>', 'commit the edited files on this new git branch, ready for a pull request')
    .option('--dry-run', 'list the edits without writing any file')
    .addHelpText(
      'after',
      '\nEdits by bots (isBot users, openmetadata.botUsers) and by ingestion are never pulled. Running it twice writes\n' +
        'nothing the second time. An edit that conflicts with an unapplied YAML change, or that the source cannot hold,\n' +
        'is listed and not written.\n\nExit codes: 0 every edit found was written (or none was found), 1 error,\n' +
        '2 an edit was listed and not written (a conflict, or a value the source cannot hold): a person decides.',
    )
    .action(run(async (options) => pullCommand(merged(options))));

  program
    .command('push')
    .description('patch OpenMetadata with what the sources have and the catalog lacks (retries failed catalog writes)')
    .addOption(serviceOption())
    .addHelpText('after', '\nExit codes: 0 the catalog shows what the sources have, 1 a catalog write failed (each is listed) or error.')
    .action(run(async (options) => pushCommand(merged(options))));

  program
    .command('status')
    .description('the last runs from the journal: succeeded, failed and pending operations')
    .option('-n, --limit <count>', 'runs to show', (value) => {
      if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('a positive integer');
      return Number(value);
    }, 10)
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(run(async (options) => statusCommand(merged(options))));

  program
    .command('demo')
    .description('the whole loop on an embedded PostgreSQL: no server needed')
    .action(run(async () => demoCommand(merged({}))));

  return program;
}

installSignalHandlers();
// Node ends with 13 when the command's promise never settles (a driver that neither answers nor
// fails): that must read as an error with a message, never as a silent 13.
// (Node sets process.exitCode to 13 before 'exit', whose argument is then 0.)
process.on('exit', () => {
  if (process.exitCode !== 13) return;
  process.stderr.write('Error: the command stopped before finishing: a connection neither answered nor failed\n  hint: check the connection settings in metaform.yaml; rerun with DEBUG=1 and report it\n');
  process.exitCode = 1;
});
await buildProgram().parseAsync(process.argv);
