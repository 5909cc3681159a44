import { diffService } from '../../core/diff.js';
import type { Project } from '../../core/project.js';
import { threeWayDrift } from '../../openmetadata/drift.js';
import { connectCatalog } from '../../openmetadata/settings.js';
import { readSource, serviceHandle } from '../../openmetadata/source.js';
import { catalogState } from '../../openmetadata/state.js';
import { writeLines } from '../../report/stream.js';
import { threeWayHasDrift, threeWayJsonLines, threeWayMarkdownLines, threeWayTextLines, type ThreeWayReport, type ThreeWayService } from '../../report/three-way.js';
import { EXIT, load, output } from '../context.js';
import { planWithProgress, printPlan, type PlanCliOptions } from './plan.js';
import { warnAboutCatalog } from './pull.js';

export interface DriftCliOptions extends PlanCliOptions {
  /** false with --no-catalog: YAML vs source only, even with a catalog configured. */
  catalog?: boolean;
}

/**
 * Live vs desired; objects missing at the source are drift too. With a catalog configured, three
 * ways: YAML, source and catalog. Exit 2 when anything differs.
 */
export async function driftCommand(options: DriftCliOptions): Promise<number> {
  const io = output(options);
  if (options.catalog !== false) {
    const project = await load(options);
    if (project.config.openmetadata) {
      warnAboutCatalog(project, io);
      const report = await threeWayReport(project, options.service);
      const lines = options.format === 'json' ? threeWayJsonLines(report) : options.format === 'markdown' ? threeWayMarkdownLines(report) : threeWayTextLines(report, io.colors);
      await writeLines(lines, process.stdout);
      return threeWayHasDrift(report) ? EXIT.changes : EXIT.ok;
    }
  }
  const { plan, missing } = await planWithProgress({ ...options, allowMissing: true });
  await printPlan(plan, options.format, io, 'drift');
  return plan.changes.length > 0 || missing.length > 0 ? EXIT.changes : EXIT.ok;
}

/** Each service the YAML names (or those asked for): its source and catalog read in bulk, compared with the YAML. */
async function threeWayReport(project: Project, services: string[] | undefined): Promise<ThreeWayReport> {
  const client = await connectCatalog(project);
  const report: ThreeWayReport = { catalog: client.url, services: [] };
  const names = services ?? [...project.config.services.keys()].filter((name) => (project.desired.get(name)?.size ?? 0) > 0);
  for (const name of names) {
    const handle = serviceHandle(project, name);
    const canonical = handle.connector.canonicalName ? { canonicalName: handle.connector.canonicalName.bind(handle.connector) } : {};
    const [source, catalog] = await Promise.all([readSource(handle), catalogState(project, name, { client })]);
    const entry: ThreeWayService = { service: name, rows: threeWayDrift({ service: handle.service, desired: handle.desired, source, catalog, ...canonical }), missing: [] };
    // Objects one side lacks: the rows cannot show them (there is no value to compare).
    for (const [side, snapshot] of [['source', source], ['catalog', catalog.snapshot]] as const)
      for (const missing of diffService({ service: handle.service, desired: handle.desired, snapshot, ...canonical }).missing)
        entry.missing.push({ address: missing.address, level: missing.level, side });
    report.services.push(entry);
  }
  return report;
}
