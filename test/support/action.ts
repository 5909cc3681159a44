import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ACTION_YML = fileURLToPath(new URL('../../action.yml', import.meta.url));
const ENTRY = fileURLToPath(new URL('../../src/action/main.ts', import.meta.url));
/** tsx by its full URL: the child runs in the project's folder, where no node_modules is. */
const TSX = import.meta.resolve('tsx');

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

export interface ActionInvocation {
  /** Inputs as written in the workflow's `with:` (names as in action.yml). */
  inputs: Record<string, string>;
  event: { name: string; payload: object };
  repository: string;
  sha: string;
  apiUrl: string;
  workspace: string;
  env?: NodeJS.ProcessEnv;
  /** Run this file with plain node instead of the TypeScript entry point through tsx. */
  bundle?: string;
  /** The job's GITHUB_TOKEN, which `${{ github.token }}` defaults evaluate to. */
  githubToken?: string;
}

/**
 * INPUT_* as the runner sets them: every input of action.yml, the workflow's value or the
 * default (`${{ github.token }}` evaluated to the job's token). The runner sets inputs with a
 * default even when the workflow omits them.
 */
async function inputEnvironment(inputs: Record<string, string>, githubToken: string): Promise<Record<string, string>> {
  const action = parse(await readFile(ACTION_YML, 'utf8')) as { inputs: Record<string, { default?: string }> };
  const env: Record<string, string> = {};
  for (const [name, input] of Object.entries(action.inputs)) {
    const value = inputs[name] ?? (input.default === undefined ? undefined : input.default.replace(/\$\{\{\s*github\.token\s*\}\}/g, githubToken));
    if (value !== undefined) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  }
  for (const [name, value] of Object.entries(inputs)) if (!(name in action.inputs)) env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value;
  return env;
}

/** GITHUB_OUTPUT as @actions/core writes it: `name<<delimiter`, value lines, `delimiter`. */
export function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^([^<]+)<<(.+)$/.exec(lines[i] ?? '');
    if (!match) continue;
    const [, name = '', delimiter] = match;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i] ?? '');
    outputs[name] = value.join('\n');
  }
  return outputs;
}

/** Runs the action's entry point in a child process as the runner does: event file, INPUT_*, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY. */
export async function runAction(invocation: ActionInvocation): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), 'metaform-runner-'));
  try {
    const eventPath = join(dir, 'event.json');
    const outputPath = join(dir, 'output');
    const summaryPath = join(dir, 'summary.md');
    await writeFile(eventPath, JSON.stringify(invocation.event.payload));
    await writeFile(outputPath, '');
    await writeFile(summaryPath, '');
    const env: NodeJS.ProcessEnv = {};
    // The runner's own variables (when the tests themselves run in Actions) must not leak in.
    for (const [key, value] of Object.entries(process.env)) if (!/^(GITHUB_|INPUT_|RUNNER_|ACTIONS_)/.test(key)) env[key] = value;
    Object.assign(env, await inputEnvironment(invocation.inputs, invocation.githubToken ?? ''));
    Object.assign(env, {
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: invocation.event.name,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_OUTPUT: outputPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      GITHUB_REPOSITORY: invocation.repository,
      GITHUB_SHA: invocation.sha,
      GITHUB_API_URL: invocation.apiUrl,
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_RUN_ID: '4242',
      GITHUB_WORKSPACE: invocation.workspace,
      RUNNER_TEMP: dir,
      NO_COLOR: '1',
      ...invocation.env,
    });
    const args = invocation.bundle ? [invocation.bundle] : ['--import', TSX, ENTRY];
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, args, { env, cwd: invocation.workspace, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
      child.on('error', reject);
      child.on('close', (exit) => resolve({ code: exit ?? -1, stdout: out, stderr: err }));
    });
    const outputs = parseOutputs(await readFile(outputPath, 'utf8'));
    // The plan file lives in RUNNER_TEMP, removed below: keep its content for the tests.
    if (outputs['plan-path']) outputs['plan-json'] = await readFile(outputs['plan-path'], 'utf8').catch(() => '');
    return { code, stdout, stderr, outputs, summary: await readFile(summaryPath, 'utf8') };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** metadata/shop.yaml describing tables of schema `shop` (and their owners) in database postgres. */
export function writeShopTables(project: { write(path: string, content: object): Promise<unknown> }, descriptions: Record<string, string>, owners: Record<string, string[]> = {}): Promise<unknown> {
  const entries: Record<string, object> = {};
  for (const [table, description] of Object.entries(descriptions)) entries[table] = { description, ...(owners[table] ? { owners: owners[table] } : {}) };
  return project.write('metadata/shop.yaml', { service: 'shop', database: 'postgres', schemas: { shop: { tables: entries } } });
}
