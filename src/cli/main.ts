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
      '\nExit codes: 0 ok or no changes (apply: also when every change of the plan is skipped, which it says), 1 error,\n' +
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
await buildProgram().parseAsync(process.argv);
