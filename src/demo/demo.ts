import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { applyPlan, createPlan } from '../core/pipeline.js';
import { loadProject } from '../core/project.js';
import { planText } from '../report/text.js';
import type { Colors } from '../report/style.js';

/** The demo project is examples/demo: the same files a user can copy. */
const EXAMPLE = fileURLToPath(new URL('../../examples/demo/', import.meta.url));

export interface DemoIo {
  colors: Colors;
  out(text: string): void;
}

/**
 * The whole loop on an embedded PostgreSQL, served over its socket so the real `pg` client is
 * used: plan -> apply -> plan (no changes) -> an out-of-band edit -> drift.
 */
export async function runDemo(io: DemoIo): Promise<number> {
  const step = (title: string) => io.out(`\n${io.colors.bold(io.colors.cyan(`== ${title}`))}\n`);
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, port: 0, host: '127.0.0.1', maxConnections: 8 });
  await server.start();
  const dir = await mkdtemp(join(tmpdir(), 'metaform-demo-'));
  try {
    const [host, port] = server.getServerConn().split(':');
    await db.exec(await readFile(join(EXAMPLE, 'sample.sql'), 'utf8'));
    await cp(EXAMPLE, dir, { recursive: true });
    const env = { ...process.env, PGHOST: host, PGPORT: port, PGUSER: 'postgres', PGPASSWORD: '', PGDATABASE: 'postgres' };
    const project = await loadProject(dir, { env });
    io.out(`Embedded PostgreSQL (PGlite) on ${host}:${port}; sample warehouse from examples/demo/sample.sql; project in ${dir}`);

    step('1. metaform plan');
    const first = await createPlan(project);
    io.out(planText(first.plan, { colors: io.colors, kind: 'plan' }));

    step('2. metaform apply --auto-approve');
    const report = await applyPlan(project, first.plan);
    io.out(`Apply complete: ${report.succeeded} succeeded, ${report.failed} failed. Journal: ${report.journalPath}`);

    step('3. metaform plan (again)');
    const second = await createPlan(project);
    io.out(planText(second.plan, { colors: io.colors, kind: 'plan' }));

    step('4. someone edits the catalog by hand, then: metaform drift');
    const edit = `COMMENT ON TABLE sales.customers IS 'temp - do not use'; ALTER TABLE sales.orders OWNER TO data_platform;`;
    io.out(io.colors.dim(edit));
    await db.exec(edit);
    const drift = await createPlan(project);
    io.out(planText(drift.plan, { colors: io.colors, kind: 'drift' }));
    io.out(`\nmetaform drift exits 2 here, so a scheduled job fails and someone looks. \`metaform apply\` would put it back.`);
    const converged = second.plan.changes.length === 0 && report.failed === 0 && drift.plan.changes.length > 0;
    return converged ? 0 : 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await server.stop();
    await db.close();
  }
}
