import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface ChildMeasure<T> {
  result: T;
  /** Peak resident memory of the child, MiB. */
  maxRssMiB: number;
}

/**
 * Runs a bench step in its own Node process, so its peak memory is its own and not the
 * catalog builder's. The child prints one JSON line: its result.
 */
export function runChild<T>(script: string, args: string[]): Promise<ChildMeasure<T>> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} exited ${code}`));
      const last = out.trim().split('\n').pop() ?? '{}';
      const parsed = JSON.parse(last) as T & { maxRssKiB: number };
      resolve({ result: parsed, maxRssMiB: parsed.maxRssKiB / 1024 });
    });
  });
}

/** Wall time of a command, milliseconds (it must exit 0). */
export function timeCommand(command: string, args: string[], input?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'inherit'] });
    if (input !== undefined) child.stdin?.end(input);
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`${command} exited ${code}`))));
  });
}

export const round = (value: number) => Math.round(value);
