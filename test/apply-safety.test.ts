/**
 * A reviewed plan is exactly what runs, and nothing is lost when a run is cut short: quoting under
 * per-database settings, saved plans whose facts or statements changed, the apply lock, a backend
 * terminated mid-apply, SIGINT and kill -9. On the local PostgreSQL server (CI requires it).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { postgresConnector } from '../src/connectors/postgres/index.js';
import { parseRun } from '../src/core/journal.js';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import type { Plan } from '../src/core/plan.js';
import { loadProject } from '../src/core/project.js';
import { PlanMismatchError } from '../src/core/verify.js';
import { metaform } from './support/cli.js';
import { startServerPostgres, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const INJECTION = "x\\'; DROP TABLE victim; --";
/** Enough column comments for several batches of 500. */
const TABLES = 3;
const COLUMNS = 500;

const saved = (plan: Plan): Plan => JSON.parse(JSON.stringify(plan)) as Plan;

describe('apply safety on the local PostgreSQL server', () => {
  let first: TestPostgres | undefined;
  let second: TestPostgres | undefined;
  let skip: string | undefined;

  before(async () => {
    const a = await startServerPostgres();
    if ('skip' in a) {
      skip = a.skip;
      return;
    }
    first = a;
    const b = await startServerPostgres();
    if ('skip' in b) throw new Error(b.skip);
    second = b;
    for (const db of [first, second]) await db.query('CREATE TABLE victim (id int); CREATE SCHEMA wide');
    const columns = Array.from({ length: COLUMNS }, (_, i) => `c${i} int`).join(', ');
    for (let t = 0; t < TABLES; t++) await first.query(`CREATE TABLE wide.t${t} (${columns})`);
  });
  after(async () => {
    await first?.close();
    await second?.close();
  });

  const databases = () => [first?.connection.database ?? '', second?.connection.database ?? ''] as const;
  const config = (extra: object = {}) => ({
    version: 1,
    services: { warehouse: { type: 'postgres', connection: first?.connection ?? {}, databases: [...databases()], ...extra } },
  });
  const schemaDescriptions = (text: string) =>
    Object.fromEntries(databases().map((database) => [`metadata/${database}.yaml`, { service: 'warehouse', database, schemas: { public: { description: text } } }]));
  const wideColumns = (database: string, text: (t: number, c: number) => string) => ({
    service: 'warehouse',
    database,
    schemas: {
      wide: {
        tables: Object.fromEntries(
          Array.from({ length: TABLES }, (_, t) => [`t${t}`, { columns: Object.fromEntries(Array.from({ length: COLUMNS }, (__, c) => [`c${c}`, text(t, c)])) }]),
        ),
      },
    },
  });
  const victimExists = async (db: TestPostgres | undefined) =>
    (await (db as TestPostgres).query(`SELECT to_regclass('public.victim') IS NOT NULL AS present`)).rows[0]?.present === true;

  // Each database in turn is the one with the setting off: whichever is read last must not decide
  // how the other is quoted.
  for (const which of [0, 1] as const)
    it(`quotes each database by its own standard_conforming_strings (off in database ${which + 1} of 2): an injected description stays text`, async (t) => {
      if (skip) return t.skip(skip);
      const unsafe = databases()[which];
      await first?.query(`ALTER DATABASE "${unsafe}" SET standard_conforming_strings = off`);
      const project = await tempProject(config(), schemaDescriptions(`${INJECTION} ${which}`));
      try {
        const loaded = await loadProject(project.dir);
        const { plan } = await createPlan(loaded);
        assert.equal(plan.server['warehouse']?.[unsafe]?.['standardConformingStrings'], false, 'the plan records each database’s own facts');
        const report = await applyPlan(loaded, plan);
        assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((operation) => operation.error)));
        assert.ok(await victimExists(first));
        assert.ok(await victimExists(second));
        for (const db of [first, second]) {
          const { rows } = await (db as TestPostgres).query(`SELECT obj_description('public'::regnamespace, 'pg_namespace') AS d`);
          assert.equal(rows[0]?.d, `${INJECTION} ${which}`);
        }
        assert.equal((await createPlan(loaded)).plan.changes.length, 0, 'the plan converges');
      } finally {
        await first?.query(`ALTER DATABASE "${unsafe}" RESET standard_conforming_strings`);
        await project.remove();
      }
    });

  it('refuses a saved plan when a quoting setting changed since, naming the fact and the database', async (t) => {
    if (skip) return t.skip(skip);
    const [database] = databases();
    const project = await tempProject(config(), schemaDescriptions('back\\slash, rendered for the setting of plan time'));
    try {
      const loaded = await loadProject(project.dir);
      const plan = saved((await createPlan(loaded)).plan);
      await first?.query(`ALTER DATABASE "${database}" SET standard_conforming_strings = off`);
      await assert.rejects(applyPlan(loaded, plan), (error: unknown) => {
        assert.ok(error instanceof PlanMismatchError, String(error));
        assert.match(error.message, new RegExp(`database ${database}: standardConformingStrings was true when the plan was made, and is false now`));
        return true;
      });
    } finally {
      await first?.query(`ALTER DATABASE "${database}" RESET standard_conforming_strings`);
      await project.remove();
    }
  });

  it('refuses a plan file whose statements were edited, and runs none of it', async (t) => {
    if (skip) return t.skip(skip);
    const project = await tempProject(config(), schemaDescriptions('edited plans do not run'));
    try {
      const loaded = await loadProject(project.dir);
      const plan = saved((await createPlan(loaded)).plan);
      const [operation] = plan.operations;
      assert.ok(operation);
      operation.statements = ['DROP TABLE victim'];
      await assert.rejects(applyPlan(loaded, plan), (error: unknown) => {
        assert.ok(error instanceof PlanMismatchError, String(error));
        assert.match(error.message, /its statements differ from what metaform renders/);
        return true;
      });
      assert.ok(await victimExists(first));
      assert.ok(await victimExists(second));
      assert.equal((await createPlan(loaded)).plan.changes.length, 2, 'nothing ran');
      const moved = saved((await createPlan(loaded)).plan);
      const [change] = moved.changes;
      assert.ok(change);
      change.path = [change.path[0] ?? '', 'wide'];
      await assert.rejects(applyPlan(loaded, moved), /its address and path name different objects/);
    } finally {
      await project.remove();
    }
  });

  it('waits for another apply’s lock, and refuses once it is held too long', async (t) => {
    if (skip) return t.skip(skip);
    const [database] = databases();
    const project = await tempProject(config(), schemaDescriptions('locked'));
    const holder = await postgresConnector.connect((await loadProject(project.dir)).config.services.get('warehouse')?.config ?? assert.fail('no service'));
    try {
      await holder.lock?.(database, 1000);
      const loaded = await loadProject(project.dir);
      const { plan } = await createPlan(loaded);
      await assert.rejects(applyPlan(loaded, plan, { lockTimeoutMs: 500 }), new RegExp(`another metaform apply holds the lock on database ${database}`));
      await holder.close();
      assert.equal((await applyPlan(loaded, plan)).failed, 0, 'applies once the other run let go');
    } finally {
      await holder.close();
      await project.remove();
    }
  });

  it('refuses the second of two applies made from one plan: the values moved under its lock', async (t) => {
    if (skip) return t.skip(skip);
    const project = await tempProject(config(), schemaDescriptions('two applies at once'));
    try {
      const loaded = await loadProject(project.dir);
      const { plan } = await createPlan(loaded);
      const outcomes = await Promise.allSettled([applyPlan(loaded, saved(plan)), applyPlan(loaded, saved(plan))]);
      const applied = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
      assert.equal(applied.length, 1);
      assert.equal(refused.length, 1);
      assert.match(String((refused[0] as PromiseRejectedResult).reason), /the plan is stale/);
    } finally {
      await project.remove();
    }
  });

  it('reconnects when the backend is terminated mid-apply; what is reported, journaled and summarised agree', async (t) => {
    if (skip) return t.skip(skip);
    const [database] = databases();
    // A little sleep per operation keeps each batch on the server long enough to be cut.
    const project = await tempProject(config({ templates: { 'column.description': 'COMMENT ON COLUMN {object} IS {value}; SELECT pg_sleep(0.001)' } }), {
      'metadata/wide.yaml': wideColumns(database, (table, column) => `terminated ${table}.${column}`),
    });
    const admin = new pg.Client({ ...first?.connection, database: 'postgres' });
    await admin.connect();
    try {
      const loaded = await loadProject(project.dir);
      const { plan } = await createPlan(loaded);
      assert.equal(plan.operations.length, TABLES * COLUMNS);
      let reported = 0;
      let terminated = 0;
      const report = await applyPlan(loaded, plan, {
        onResult: () => {
          if (++reported % 500 === 1)
            void admin
              .query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND query LIKE 'COMMENT ON COLUMN%'`, [database])
              .then((result) => (terminated += result.rowCount ?? 0));
        },
      });
      assert.ok(terminated > 0, 'a backend was terminated during the run');
      assert.equal(reported, plan.operations.length, 'every operation reported once');
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.filter((operation) => operation.outcome !== 'succeeded').slice(0, 3)));
      const journal = parseRun(await readFile(report.journalPath, 'utf8'));
      assert.equal(journal.state, 'complete');
      assert.equal(journal.operations.length, plan.operations.length);
      assert.deepEqual(journal.summary, report.run.summary);
      assert.ok(journal.operations.some((operation) => operation.attempts > 1), 'the cut batch was sent again');
      assert.equal((await createPlan(loaded)).plan.changes.length, 0);
    } finally {
      await admin.end();
      await project.remove();
    }
  });

  describe('an apply cut short from outside (the CLI, as a user runs it)', () => {
    let project: TempProject | undefined;
    let round = 0;

    const start = async (): Promise<{ child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> }> => {
      const [database] = databases();
      round++;
      project = await tempProject(config({ templates: { 'column.description': 'COMMENT ON COLUMN {object} IS {value}; SELECT pg_sleep(0.004)' } }), {
        'metadata/wide.yaml': wideColumns(database, (table, column) => `round ${round}: ${table}.${column}`),
      });
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--dir', project.dir, 'apply', '--auto-approve'], {
        env: { ...process.env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
      );
      return { child, done };
    };

    /** Waits until the run's journal holds at least one operation. */
    const journalText = async (): Promise<string> => {
      const dir = join(project?.dir ?? '', '.metaform', 'runs');
      for (let i = 0; i < 600; i++) {
        const names = await readdir(dir).catch(() => [] as string[]);
        const [name] = names.filter((entry) => entry.endsWith('.jsonl'));
        if (name) {
          const text = await readFile(join(dir, name), 'utf8');
          if (text.includes('"type":"operation"')) return text;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the apply never journaled an operation');
    };

    after(async () => project?.remove());

    it('SIGINT: finishes the batch in flight, journals the rest as not run, exits 130', async (t) => {
      if (skip) return t.skip(skip);
      const { child, done } = await start();
      await journalText();
      child.kill('SIGINT');
      const result = await done;
      assert.equal(result.code, 130, result.stderr);
      assert.match(result.stdout, /Apply interrupted by SIGINT/);
      const dir = join(project?.dir ?? '', '.metaform', 'runs');
      const [name] = (await readdir(dir)).filter((entry) => entry.endsWith('.jsonl'));
      const run = parseRun(await readFile(join(dir, name ?? ''), 'utf8'));
      assert.equal(run.state, 'interrupted');
      assert.equal(run.operations.length, TABLES * COLUMNS, 'every operation has a record');
      assert.ok(run.summary.notRun > 0 && run.summary.succeeded > 0, JSON.stringify(run.summary));
      const status = await metaform(project?.dir ?? '', ['status']);
      assert.match(status.stdout, /interrupted by SIGINT/);
      const left = await metaform(project?.dir ?? '', ['plan', '--format', 'json']);
      assert.equal((JSON.parse(left.stdout) as Plan).changes.length, run.summary.notRun, 'exactly what did not run is left');
      await project?.remove();
    });

    it('kill -9: the journal still holds every operation that completed, and status says it was cut short', async (t) => {
      if (skip) return t.skip(skip);
      const { child, done } = await start();
      await journalText();
      child.kill('SIGKILL');
      await done;
      const dir = join(project?.dir ?? '', '.metaform', 'runs');
      const [name] = (await readdir(dir)).filter((entry) => entry.endsWith('.jsonl'));
      const run = parseRun(await readFile(join(dir, name ?? ''), 'utf8'));
      assert.equal(run.state, 'killed');
      assert.ok(run.summary.succeeded > 0);
      const status = await metaform(project?.dir ?? '', ['status']);
      assert.match(status.stdout, /interrupted \(no end record: killed or crashed\)/);
      assert.match(status.stdout, new RegExp(`${TABLES * COLUMNS - run.operations.length} of ${TABLES * COLUMNS} not recorded`));
      const left = await metaform(project?.dir ?? '', ['plan', '--format', 'json']);
      // Recorded means committed; a batch may have committed just before the kill, unrecorded.
      assert.ok((JSON.parse(left.stdout) as Plan).changes.length <= TABLES * COLUMNS - run.summary.succeeded);
    });
  });
});
