import { runDemo } from '../../demo/demo.js';
import { output, type GlobalOptions } from '../context.js';

export async function demoCommand(options: GlobalOptions): Promise<number> {
  return runDemo(output(options));
}
