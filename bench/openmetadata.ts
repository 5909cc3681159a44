/**
 * `npx tsx bench/openmetadata.ts`: import --from openmetadata and the catalog side of a three-way
 * drift over BENCH_TABLES (10,000) tables x BENCH_COLUMNS (20) columns served by the emulator,
 * with the number of HTTP requests and the time of each step. The source side of drift is the
 * plan read that bench/postgres.ts measures.
 */
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { diffService } from '../src/core/diff.js';
import { loadProject } from '../src/core/project.js';
import { OpenMetadataClient } from '../src/openmetadata/client.js';
import { importFromCatalog } from '../src/openmetadata/import.js';
import { catalogState } from '../src/openmetadata/state.js';
import { manualTag, startOpenMetadataEmulator } from '../test/emulators/openmetadata/server.js';

const tables = Number(process.env['BENCH_TABLES'] ?? 10_000);
const columns = Number(process.env['BENCH_COLUMNS'] ?? 20);
const edits = Math.min(1_000, tables);

const emulator = await startOpenMetadataEmulator();
emulator.addUser('jane', 'jane@corp.com', false);
emulator.addUser('metaform-bot', 'metaform@corp.com', true, 'bot-token');
emulator.addTag('PII', 'Sensitive');
emulator.addEntity('database', 'bench', 'db', { description: 'Bench database' });
emulator.addEntity('databaseSchema', 'bench.db', 'public', { description: 'Bench schema' });
for (let t = 0; t < tables; t++)
  emulator.addEntity('table', 'bench.db.public', `t${t}`, {
    description: `Table ${t}: one row per thing, with 'quotes' and "double quotes"`,
    owners: ['jane'],
    columns: Array.from({ length: columns }, (_, c) => ({ name: `c${c}`, description: `Column ${c} of table ${t}`, ...(c === 0 ? { tags: [manualTag('PII.Sensitive')] } : {}) })),
  });

const dir = await mkdtemp(join(tmpdir(), 'metaform-om-bench-'));
const write = async (path: string, content: string) => {
  await mkdir(dirname(join(dir, path)), { recursive: true });
  await writeFile(join(dir, path), content);
};
await write('metaform.yaml', stringify({ version: 1, services: { bench: { type: 'postgres', connection: { host: '127.0.0.1' }, owners: { map: { 'jane@corp.com': 'jane_role' } } } }, openmetadata: { url: emulator.url, token: 'bot-token' } }));
let peak = process.memoryUsage().rss;
const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);

try {
  const client = await OpenMetadataClient.connect({ url: emulator.url, token: 'bot-token' });
  let started = performance.now();
  let requests = client.requests;
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
    return { ms: Math.round(performance.now() - begin), requests: client.requests - before, changes: changes.length };
  };
  const clean = await drift();
  for (let t = 0; t < edits; t++) {
    const entity = emulator.entity(`bench.db.public.t${t}`);
    if (entity) entity.description = `edited ${t}`;
  }
  const drifted = await drift();
  requests = client.requests;
  const lines = [
    '| step | catalog | time | HTTP requests | result |',
    '|---|---|---|---|---|',
    `| import --from openmetadata | ${tables} tables x ${columns} columns | ${importMs} ms | ${importRequests} | ${files.length} file, ${(files.reduce((sum, file) => sum + file.content.length, 0) / 1e6).toFixed(1)} MB of YAML |`,
    `| load the imported YAML | | ${loadMs} ms | 0 | |`,
    `| drift, catalog side (read + diff), clean | | ${clean.ms} ms | ${clean.requests} | ${clean.changes} differences |`,
    `| drift, catalog side, ${edits} descriptions edited | | ${drifted.ms} ms | ${drifted.requests} | ${drifted.changes} differences |`,
    `| peak RSS | | ${Math.round(peak / 2 ** 20)} MiB | | |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  clearInterval(sample);
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
}
