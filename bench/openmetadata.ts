/**
 * `npx tsx bench/openmetadata.ts`: import --from openmetadata and a three-way drift over
 * BENCH_TABLES (10,000) tables x BENCH_COLUMNS (20) columns, the catalog served by the emulator
 * (in this process, so its serialising is in the times) and the source on the local PostgreSQL
 * server (skipped when none answers), with the number of HTTP requests and the time of each step;
 * then a push of the catalog-side differences (one GET and one JSON Patch per entity).
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { stringify } from 'yaml';
import { diffService } from '../src/core/diff.js';
import { loadProject } from '../src/core/project.js';
import { OpenMetadataClient } from '../src/openmetadata/client.js';
import { importFromCatalog } from '../src/openmetadata/import.js';
import { catalogState } from '../src/openmetadata/state.js';
import { pushApplied } from '../src/openmetadata/push.js';
import { threeWayDrift } from '../src/openmetadata/drift.js';
import { readSource, serviceHandle } from '../src/openmetadata/source.js';
import { manualTag, startOpenMetadataEmulator } from '../test/emulators/openmetadata/server.js';

// `npm run bench` runs this after bench/run.ts; BENCH_ENGINES without `openmetadata` skips it.
const engines = process.env['BENCH_ENGINES'];
if (engines !== undefined && !engines.split(',').includes('openmetadata')) process.exit(0);

const tables = Number(process.env['BENCH_TABLES'] ?? 10_000);
const columns = Number(process.env['BENCH_COLUMNS'] ?? 20);
const edits = Math.min(1_000, tables);

const SERVER = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres' };
const database = `metaform_om_bench_${process.pid}`;
const admin = new pg.Client({ ...SERVER, database: 'postgres', connectionTimeoutMillis: 3000 });
const haveServer = await admin.connect().then(
  () => true,
  (error: Error) => {
    process.stderr.write(`no PostgreSQL server at ${SERVER.host}:${SERVER.port} (${error.message}): the source side is skipped\n`);
    return false;
  },
);
if (haveServer) {
  await admin.query(`CREATE DATABASE ${database}`);
  const source = new pg.Client({ ...SERVER, database });
  await source.connect();
  const columnList = Array.from({ length: columns }, (_, c) => `c${c} int`).join(', ');
  try {
    // One transaction per 1,000 tables: a single one runs out of lock slots.
    for (let from = 0; from < tables; from += 1000)
      await source.query(`DO $$ BEGIN FOR i IN ${from}..${Math.min(tables, from + 1000) - 1} LOOP EXECUTE format('CREATE TABLE public.%I (${columnList})', 't' || i); END LOOP; END $$`);
  } catch (error) {
    await source.end();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    throw error;
  }
  await source.end();
}

const emulator = await startOpenMetadataEmulator();
emulator.addUser('jane', 'jane@corp.com', false);
emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
emulator.addTag('PII', 'Sensitive');
emulator.addEntity('database', 'bench', database, { description: 'Bench database' });
emulator.addEntity('databaseSchema', `bench.${database}`, 'public', { description: 'Bench schema' });
for (let t = 0; t < tables; t++)
  emulator.addEntity('table', `bench.${database}.public`, `t${t}`, {
    description: `Table ${t}: one row per thing, with 'quotes' and "double quotes"`,
    owners: ['jane'],
    columns: Array.from({ length: columns }, (_, c) => ({ name: `c${c}`, description: `Column ${c} of table ${t}`, ...(c === 0 ? { tags: [manualTag('PII.Sensitive')] } : {}) })),
  });

const dir = await mkdtemp(join(tmpdir(), 'metaform-om-bench-'));
const write = async (path: string, content: string) => {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), content);
};
await write('metaform.yaml', stringify({ version: 1, services: { bench: { type: 'postgres', connection: { ...SERVER, database }, owners: { map: { 'jane@corp.com': 'jane_role' } } } }, openmetadata: { url: emulator.url, token: 'bot-token' } }));
let peak = process.memoryUsage().rss;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);

try {
  const client = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' });
  let started = performance.now();
  const requests = client.requests;
  const files = await importFromCatalog(await loadProject(dir), 'bench', { client });
  const importMs = Math.round(performance.now() - started);
  const importRequests = client.requests - requests;
  for (const file of files) await write(file.path, file.content);

  started = performance.now();
  const project = await loadProject(dir);
  const loadMs = Math.round(performance.now() - started);
  const service = project.config.services.get('bench')!.config;
  const drift = async () => {
    const begin = performance.now();
    const before = client.requests;
    const state = await catalogState(project, 'bench', { client });
    const { changes } = diffService({ service, desired: project.desired.get('bench')!, snapshot: state.snapshot });
    return { ms: Math.round(performance.now() - begin), requests: client.requests - before, changes: changes.length, list: changes };
  };
  const clean = await drift();
  for (let t = 0; t < edits; t++) {
    const entity = emulator.entity(`bench.${database}.public.t${t}`);
    if (entity) entity.description = `edited ${t}`;
  }
  const drifted = await drift();
  // Push: the catalog told the YAML's values back (one GET and one JSON Patch per entity).
  const pushStarted = performance.now();
  const pushBefore = client.requests;
  const pushed = await pushApplied(project, drifted.list, { client });
  const pushMs = Math.round(performance.now() - pushStarted);
  const pushRequests = client.requests - pushBefore;
  const pushFailed = pushed.filter((result) => result.outcome !== 'succeeded').length;
  let threeWay = 'skipped: no PostgreSQL server';
  let threeWayMs = 0;
  let threeWayRequests = 0;
  if (haveServer) {
    const begin = performance.now();
    const before = client.requests;
    const handle = serviceHandle(project, 'bench');
    const rows = threeWayDrift({ service, desired: handle.desired, source: await readSource(handle), catalog: await catalogState(project, 'bench', { client }) });
    threeWayMs = Math.round(performance.now() - begin);
    threeWayRequests = client.requests - before;
    threeWay = `${rows.length} properties differ (the source has no comments: every one differs from YAML; ${rows.filter((row) => row.differs.includes('catalog')).length} differ in the catalog too)`;
  }
  const lines = [
    '| step | catalog | time | HTTP requests | result |',
    '|---|---|---|---|---|',
    `| import --from openmetadata | ${tables} tables x ${columns} columns | ${importMs} ms | ${importRequests} | ${files.length} file, ${(files.reduce((sum, file) => sum + file.content.length, 0) / 1e6).toFixed(1)} MB of YAML |`,
    `| load the imported YAML | | ${loadMs} ms | 0 | |`,
    `| drift, catalog side (read + diff), clean | | ${clean.ms} ms | ${clean.requests} | ${clean.changes} differences |`,
    `| drift, catalog side, ${edits} descriptions edited | | ${drifted.ms} ms | ${drifted.requests} | ${drifted.changes} differences |`,
    `| push of those ${drifted.changes} changes (4 entities at once) | | ${pushMs} ms | ${pushRequests} | ${pushed.length} entity writes, ${pushFailed} failed |`,
    `| three-way drift: source read (4 catalog queries) + catalog read + both diffs | | ${threeWayMs} ms | ${threeWayRequests} | ${threeWay} |`,
    `| peak RSS | | ${Math.round(peak / 2 ** 20)} MiB | | |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  clearInterval(sample);
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
  if (haveServer) await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end().catch(() => undefined);
}
