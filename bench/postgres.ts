import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { POSTGRES_CATALOG } from '../src/connectors/postgres/catalog.js';
import type { BenchOptions, BenchResult } from './types.js';
import { benchResult, round, runChild, timeCommand, type StepResult } from './support.js';

export const SERVER = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres' };
export const SCHEMAS = 10;


/** 10 schemas of tables t00000.. with columns c00..; built server-side in one DO block per schema. */
export async function buildCatalog(client: pg.Client, options: BenchOptions): Promise<void> {
  const perSchema = Math.ceil(options.tables / SCHEMAS);
  const columns = Array.from({ length: options.columnsPerTable }, (_, i) => `c${String(i).padStart(2, '0')} int`).join(', ');
  for (let s = 0; s < SCHEMAS; s++) {
    await client.query(`CREATE SCHEMA s${s}`);
    await client.query(`DO $$ BEGIN FOR i IN 0..${perSchema - 1} LOOP
      EXECUTE format('CREATE TABLE s${s}.%I (${columns})', 't' || lpad(i::text, 5, '0'));
    END LOOP; END $$`);
  }
}

function desiredState(database: string, options: BenchOptions): object {
  const perSchema = Math.ceil(options.tables / SCHEMAS);
  const schemas: Record<string, object> = {};
  let described = 0;
  for (let s = 0; s < SCHEMAS; s++) {
    const tables: Record<string, string> = {};
    for (let i = 0; i < perSchema; i++) {
      const name = `t${String(i).padStart(5, '0')}`;
      tables[name] = described++ < options.changes ? `Table ${s}.${i}: it's described \\ with "quotes"` : (null as unknown as string);
    }
    schemas[`s${s}`] = { tables };
  }
  return { service: 'bench', database, schemas };
}

/** Throws unless exactly `count` tables have a comment matching `pattern`. */
async function expectComments(client: pg.Client, pattern: string, count: number, after: string): Promise<void> {
  const { rows } = await client.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_description d JOIN pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
      WHERE c.relkind = 'r' AND d.description LIKE $1`,
    [pattern],
  );
  if (Number(rows[0]?.n) !== count) throw new Error(`after ${after}: ${rows[0]?.n} tables have a comment like ${pattern}, expected ${count}`);
}

export async function benchPostgres(options: BenchOptions): Promise<BenchResult> {
  const admin = new pg.Client({ ...SERVER, database: 'postgres' });
  await admin.connect();
  const database = `metaform_bench_${process.pid}`;
  await admin.query(`CREATE DATABASE ${database}`);
  const dir = await mkdtemp(join(tmpdir(), 'metaform-bench-pg-'));
  const client = new pg.Client({ ...SERVER, database });
  try {
    await client.connect();
    const buildStarted = performance.now();
    await buildCatalog(client, options);
    process.stderr.write(`postgres: built ${options.tables} tables x ${options.columnsPerTable} columns in ${round(performance.now() - buildStarted)} ms\n`);
    await mkdir(join(dir, 'metadata'));
    await writeFile(join(dir, 'metaform.yaml'), stringify({ version: 1, services: { bench: { type: 'postgres', connection: { ...SERVER, database } } } }));
    await writeFile(join(dir, 'metadata', 'bench.yaml'), stringify(desiredState(database, options)));

    const psql = ['-X', '-q', '-A', '-t', '-h', SERVER.host, '-p', String(SERVER.port), '-U', SERVER.user, '-d', database];
    // Baseline read: psql running the same four catalog queries for the same schemas.
    const schemaList = `'{${Array.from({ length: SCHEMAS }, (_, s) => `s${s}`).join(',')}}'`;
    const filter = `n.nspname = ANY(${schemaList})`;
    const catalogScript = [POSTGRES_CATALOG.database, POSTGRES_CATALOG.schemas(filter), POSTGRES_CATALOG.tables(filter), POSTGRES_CATALOG.columns(filter)]
      .map((sql) => `${sql};`)
      .join('\n');
    await timeCommand('psql', [...psql, '-f', '-'], catalogScript); // warm the catalog cache once for both
    const baselineReadMs = await timeCommand('psql', [...psql, '-f', '-'], catalogScript);
    const plan = await runChild<StepResult>('./pipeline-child.ts', [dir, 'plan']);

    // Apply: metaform, then psql running the same statements in one transaction, sent as one
    // request (`\;` joins them), as metaform's batches are: the engine's work, not round trips.
    const applied = await runChild<StepResult>('./pipeline-child.ts', [dir, 'apply']);
    if (applied.result.failed) throw new Error(`${applied.result.failed} operations failed`);
    await expectComments(client, 'Table %', options.changes, 'metaform apply');
    const statements = Array.from({ length: options.changes }, (_, n) => {
      const s = n % SCHEMAS;
      const i = Math.floor(n / SCHEMAS);
      return `COMMENT ON TABLE "s${s}"."t${String(i).padStart(5, '0')}" IS 'again ${n}'`;
    });
    const baselineApplyMs = await timeCommand('psql', [...psql, '-v', 'ON_ERROR_STOP=1', '-1', '-f', '-'], `${statements.join('\\;\n')};\n`);
    await expectComments(client, 'again %', options.changes, 'the psql script');

    const baseline = { readMs: baselineReadMs, applyMs: baselineApplyMs };
    return benchResult('PostgreSQL 15 (server)', options, plan, applied, baseline, 'plan includes loading and validating the YAML of every table; psql read = the same 4 catalog queries; psql script = the same statements in one transaction and one request; comments checked after each');
  } finally {
    await client.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}
