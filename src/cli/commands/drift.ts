import { EXIT, output } from '../context.js';
import { planWithProgress, printPlan, type PlanCliOptions } from './plan.js';

/** Live vs desired; objects missing at the source are drift too. Exit 2 when anything differs. */
export async function driftCommand(options: PlanCliOptions): Promise<number> {
  const io = output(options);
  const { plan, missing } = await planWithProgress({ ...options, allowMissing: true });
  await printPlan(plan, options.format, io, 'drift');
  return plan.changes.length > 0 || missing.length > 0 ? EXIT.changes : EXIT.ok;
}
