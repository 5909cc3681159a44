/**
 * `npm run bench`: builds large catalogs on each engine and measures plan and apply next to the
 * engine's own client. BENCH_TABLES / BENCH_COLUMNS / BENCH_CHANGES / BENCH_ENGINES override.
 */
import { writeFile } from 'node:fs/promises';
import { benchPostgres } from './postgres.js';
import type { BenchOptions, BenchResult } from './types.js';

const numberFromEnv = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const engines: Record<string, (options: BenchOptions) => Promise<BenchResult>> = {
  postgres: (options) => benchPostgres(options),
};
const defaults: Record<string, BenchOptions> = {
  postgres: { tables: 10_000, columnsPerTable: 20, changes: 10_000 },
};

const selected = (process.env['BENCH_ENGINES'] ?? Object.keys(engines).join(',')).split(',');
const results: BenchResult[] = [];
for (const name of selected) {
  const run = engines[name];
  const base = defaults[name];
  if (!run || !base) throw new Error(`unknown engine ${name}; known: ${Object.keys(engines).join(', ')}`);
  const options: BenchOptions = {
    tables: numberFromEnv('BENCH_TABLES', base.tables),
    columnsPerTable: numberFromEnv('BENCH_COLUMNS', base.columnsPerTable),
    changes: numberFromEnv('BENCH_CHANGES', base.changes),
  };
  process.stderr.write(`${name}: ${options.tables} tables x ${options.columnsPerTable} columns, ${options.changes} changes\n`);
  results.push(await run(options));
}

const ratio = (a: number, b?: number) => (b ? `${(a / b).toFixed(2)}x` : 'n/a');
const lines = [
  '| engine | catalog | plan | catalog queries | peak RSS | engine client read | plan / read | apply | engine client script | apply / script |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...results.map(
    (r) =>
      `| ${r.engine} | ${r.tables} tables x ${r.columnsPerTable} columns | ${r.planMs} ms | ${r.catalogQueries} | ${r.peakRssMiB} MiB | ${r.baselineReadMs ?? 'n/a'} ms | ${ratio(r.planMs, r.baselineReadMs)} | ${r.applyChanges} changes in ${r.applyMs} ms | ${r.baselineApplyMs ?? 'n/a'} ms | ${ratio(r.applyMs, r.baselineApplyMs)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
await writeFile(new URL('./results.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
