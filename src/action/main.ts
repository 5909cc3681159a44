/**
 * Entry point of the metaform GitHub Action (action.yml). Reads the runner's inputs and event,
 * runs one command, sets the outputs through GITHUB_OUTPUT and fails the step with a
 * `failure-reason` that says what to do.
 */
import { join } from 'node:path';
import * as core from '@actions/core';
import { MetaformError, MetaformErrors } from '../core/errors.js';
import { readContext, type RunContext } from './context.js';
import { ActionFailure } from './failure.js';
import { applyCommand } from './apply.js';
import { driftCommand } from './drift.js';
import { planCommand } from './plan.js';
import { pullCommand } from './pull.js';

/** Validation errors become annotations on the YAML lines they are about. */
function annotate(error: MetaformError, run: RunContext | undefined): void {
  const file = error.location ? (run && run.project !== '.' ? join(run.project, error.location.file) : error.location.file) : undefined;
  core.error(error.hint ? `${error.message} (${error.hint})` : error.message, {
    title: 'metaform',
    ...(file && error.location ? { file, startLine: error.location.line, startColumn: error.location.col } : {}),
  });
}

export async function main(): Promise<void> {
  let run: RunContext | undefined;
  try {
    run = readContext();
    const commands = { plan: planCommand, apply: applyCommand, drift: driftCommand, pull: (context: RunContext) => pullCommand(context) };
    await commands[run.command](run);
  } catch (error) {
    if (error instanceof ActionFailure) {
      core.setOutput('failure-reason', error.reason);
      core.setFailed(error.describe());
      return;
    }
    core.setOutput('failure-reason', 'error');
    if (error instanceof MetaformErrors) for (const each of error.errors) annotate(each, run);
    else if (error instanceof MetaformError) annotate(error, run);
    core.setFailed(error instanceof Error ? String(error instanceof MetaformError || error instanceof MetaformErrors ? error.toString() : error.message) : String(error));
  }
}

await main();
