import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliResult {
  code: number;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Close the child's standard output at once, as `metaform plan | head -1` does. */
  closeStdout?: boolean;
  /** Run the CLI under this command, e.g. `['prlimit', '--fsize=65536']` for a file-size limit. */
  wrapper?: string[];
}

/** Runs the real CLI in a child process, as a user (or CI) would, without a terminal. */
export function metaform(dir: string, args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [command = process.execPath, ...prefix] = [...(options.wrapper ?? []), process.execPath];
    const child = spawn(command, [...prefix, '--import', 'tsx', MAIN, '--dir', dir, ...args], {
      env: { ...process.env, NO_COLOR: '1', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    if (options.closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
  });
}
