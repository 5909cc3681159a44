import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { importService } from '../src/core/import.js';
import { loadProject } from '../src/core/project.js';
import { chdbUnavailable, startChdbServer, type ChdbServer } from './support/chdb-server.js';
import { tempProject } from './support/project.js';

/**
 * A gateway in front of the endpoint: answers `fail(sql)`'s status instead of forwarding, when it
 * gives one; 'gone' stops listening and drops the connection (the server went away).
 */
interface Gateway {
  url: string;
  fail: (sql: string) => number | 'gone' | undefined;
  close(): Promise<void>;
}

async function startGateway(target: string): Promise<Gateway> {
  const gateway: Gateway = { url: '', fail: () => undefined, close: async () => undefined };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const text = request.headers['content-encoding'] === 'gzip' ? gunzipSync(body).toString() : body.toString();
      const status = gateway.fail(text);
      if (status === 'gone') {
        void gateway.close();
        request.socket.destroy();
        return;
      }
      if (status !== undefined) {
        response.writeHead(status, { 'Content-Type': 'text/html' }).end(`<html><head><title>${status} Bad Gateway</title></head><body><center><h1>${status} Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n`);
        return;
      }
      const upstream = new URL(target);
      const forward = httpRequest({ host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(response);
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  gateway.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  gateway.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return gateway;
}

/** Everything written to stderr while `work` runs (the clients' own loggers must stay quiet). */
async function stderrOf<T>(work: () => Promise<T>): Promise<{ value: T; stderr: string }> {
  const original = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await work(), stderr };
  } finally {
    process.stderr.write = original;
  }
}

describe('ClickHouse connector hardening (chDB behind HTTP, the real client)', () => {
  const unavailable = chdbUnavailable();
  let server: ChdbServer | undefined;
  let gateway: Gateway | undefined;

  before(async () => {
    if (unavailable) return;
    server = await startChdbServer();
    gateway = await startGateway(server.url);
    server.query(`CREATE DATABASE hard`);
    for (let i = 0; i < 40; i++) server.query(`CREATE TABLE hard.t${i} (id UInt64, v String) ENGINE = Memory`);
    server.query(`CREATE TABLE hard.wide (${Array.from({ length: 12 }, (_, i) => `c${i} String`).join(', ')}) ENGINE = Memory`);
    server.query(`CREATE TABLE hard.src (id UInt64, v String) ENGINE = MergeTree ORDER BY id`);
    server.query(`CREATE DICTIONARY hard.dict (id UInt64, v String) PRIMARY KEY id SOURCE(CLICKHOUSE(TABLE 'src' DB 'hard')) LAYOUT(FLAT()) LIFETIME(0)`);
    server.query(`CREATE TABLE hard.dtab (id UInt64, v String) ENGINE = Dictionary(hard.dict)`);
    server.query(`CREATE TABLE hard.\`.inner_user\` (id UInt64) ENGINE = Memory`);
    server.query(`CREATE MATERIALIZED VIEW hard.mv ENGINE = Memory AS SELECT id FROM hard.src`);
    server.query(`CREATE DATABASE files ENGINE = Filesystem('${server.url.length > 0 ? '/tmp' : ''}')`);
  });
  after(async () => {
    await gateway?.close();
    await server?.close();
  });
  const project = (url: string, schemas: object) =>
    tempProject({ version: 1, services: { events: { type: 'clickhouse', connection: { url } } } }, { 'metadata/events.yaml': { service: 'events', database: 'default', schemas } });
  const rows = (sql: string) => server!.query(sql).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown[]);

  it('retries HTTP 502/503/504 from a gateway; a lasting one fails with its HTTP status; nothing reaches stderr', async (t) => {
    if (unavailable || !server || !gateway) return t.skip(unavailable);
    const dir = await project(gateway.url, { hard: { tables: { t0: 'zero', t1: 'one' } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      const seen = new Map<string, number>();
      gateway.fail = (sql) => {
        const times = (seen.get(sql) ?? 0) + 1;
        seen.set(sql, times);
        if (sql.includes('`t0`')) return times <= 2 ? 502 : undefined;
        if (sql.includes('`t1`')) return 503;
        return undefined;
      };
      const { value: report, stderr } = await stderrOf(() => applyPlan(loaded, plan));
      gateway.fail = () => undefined;
      const byTable = Object.fromEntries(report.run.operations.map((op) => [op.id.split('.').at(-1)?.split('#')[0], op]));
      assert.equal(byTable['t0']?.outcome, 'succeeded');
      assert.equal(byTable['t0']?.attempts, 3, 'two 502s, then through');
      assert.equal(byTable['t1']?.outcome, 'failed');
      assert.match(byTable['t1']?.error ?? '', /HTTP 503/);
      assert.doesNotMatch(byTable['t1']?.error ?? '', /\n\s+at /, 'no stack trace in the message');
      assert.equal(stderr, '', 'the client logs nothing of its own');
    } finally {
      gateway.fail = () => undefined;
      await dir.remove();
    }
  });

  it('retries a failed catalog read; failing that, names the service and host', async (t) => {
    if (unavailable || !server || !gateway) return t.skip(unavailable);
    const dir = await project(gateway.url, { hard: { tables: { t2: 'two' } } });
    try {
      const loaded = await loadProject(dir.dir);
      let failures = 0;
      gateway.fail = (sql) => (sql.includes('system.tables') && ++failures === 1 ? 504 : undefined);
      assert.equal((await createPlan(loaded)).plan.changes.length, 1, 'one 504 on the catalog read, then through');
      gateway.fail = (sql) => (sql.includes('system.tables') ? 504 : undefined);
      const { value: error, stderr } = await stderrOf(() => createPlan(loaded).then(() => assert.fail('the read cannot succeed'), (caught: unknown) => caught as Error));
      assert.match(error.message, /service events: cannot read the catalog of ClickHouse at http:\/\/127\.0\.0\.1:\d+.*HTTP 504/);
      assert.equal(stderr, '');
    } finally {
      gateway.fail = () => undefined;
      await dir.remove();
    }
  });

  it('stops at a server gone mid-apply: the rest are not run, with one message', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    const own = await startGateway(server.url);
    const tables = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`t${i}`, `gone ${i}`]));
    const dir = await project(own.url, { hard: { tables } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      // The session connects (SELECT 1), then the server goes away at the first ALTER.
      own.fail = (sql) => (sql.startsWith('ALTER') ? 'gone' : undefined);
      const port = own.url.split(':').at(-1);
      const { value: report, stderr } = await stderrOf(() => applyPlan(loaded, plan));
      assert.equal(stderr, '');
      const notRun = report.run.operations.filter((op) => op.outcome === 'not-run');
      assert.ok(notRun.length >= 40 - 4, `at most the operations in flight were tried (${notRun.length} not run)`);
      assert.deepEqual([...new Set(notRun.map((op) => op.error))], [`not run: ClickHouse at http://127.0.0.1:${port} is unreachable (connect ECONNREFUSED 127.0.0.1:${port})`]);
    } finally {
      await dir.remove();
    }
  });

  it('skips a comment above max_query_size with the sizes, and the comments that would make the table’s metadata too large', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    const [[limit]] = rows(`SELECT toString(value) FROM system.settings WHERE name = 'max_query_size'`) as [[string]];
    const max = Number(limit);
    // Each fits in a statement; together they do not fit in the table's metadata, which ClickHouse
    // refuses to write beyond max_query_size (it could not load the table back).
    const quarter = (i: number) => `${i}`.repeat(Math.floor(max / 4));
    const columns: Record<string, string> = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`c${i}`, quarter(i)]));
    columns['c5'] = 'x'.repeat(max + 10);
    const dir = await project(server.url, { hard: { tables: { wide: { columns } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 4 + 1, 'the four catalog queries, then the metadata size of the one table near the limit');
      const reasons = Object.fromEntries(plan.changes.map((change) => [change.path[3], change.skipped]));
      assert.match(reasons['c5'] ?? '', new RegExp(`the comment is ${max + 10} bytes and its statement \\d+ bytes, above the server's max_query_size \\(${max} bytes\\)`));
      assert.equal(reasons['c0'], undefined);
      assert.equal(reasons['c2'], undefined);
      assert.match(reasons['c3'] ?? '', new RegExp(`table's metadata would be about \\d+ bytes, above the server's max_query_size \\(${max} bytes\\)`));
      assert.match(reasons['c4'] ?? '', /table's metadata would be about/);
      for (const operation of plan.operations) for (const statement of operation.statements) assert.ok(Buffer.byteLength(statement) <= max);
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((op) => op.error).filter(Boolean)));
      assert.deepEqual(rows(`SELECT name, comment FROM system.columns WHERE database = 'hard' AND table = 'wide' AND name IN ('c0','c1','c2','c3','c4','c5') ORDER BY name`), [
        ...Array.from({ length: 3 }, (_, i) => [`c${i}`, quarter(i)]),
        ['c3', ''],
        ['c4', ''],
        ['c5', ''],
      ]);
      assert.deepEqual(
        (await createPlan(loaded)).plan.changes.map((change) => [change.path[3], change.skipped !== undefined]),
        [['c3', true], ['c4', true], ['c5', true]],
        'what is left is what cannot apply, with its reason',
      );
    } finally {
      await dir.remove();
    }
  });

  it('skips what can never apply: dictionary column comments, comments on databases whose engine refuses them', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    const dir = await project(server.url, {
      hard: { tables: { dict: { description: 'A dictionary', columns: { v: 'value' } }, dtab: { columns: { v: 'value' } }, src: { columns: { v: 'source value' } } } },
      files: { description: 'Files' },
    });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      const reasons = Object.fromEntries(plan.changes.map((change) => [change.path.slice(1).join('.'), change.skipped]));
      assert.match(reasons['hard.dict.v'] ?? '', /dictionar/i);
      assert.match(reasons['hard.dtab.v'] ?? '', /dictionar/i);
      assert.match(reasons['files'] ?? '', /Filesystem/);
      assert.equal(reasons['hard.dict'], undefined, 'a dictionary keeps a table comment');
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((op) => op.error).filter(Boolean)));
      const left = (await createPlan(loaded)).plan.changes;
      assert.ok(left.every((change) => change.skipped !== undefined), 'what is left is skipped, with its reason');
    } finally {
      await dir.remove();
    }
  });

  it('hides only the real inner tables of materialized views', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    const dir = await project(server.url, { hard: { tables: { '.inner_user': 'not an inner table' } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.deepEqual(plan.changes.map((change) => change.path[2]), ['.inner_user']);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      const inner = rows(`SELECT toString(count()) FROM system.tables WHERE database = 'hard' AND startsWith(name, '.inner_id.')`);
      assert.deepEqual(inner, [['1']], 'the view has its inner table');
    } finally {
      await dir.remove();
    }
  });

  it('import -d names a ClickHouse database (metaform schema), and imports just that one', async (t) => {
    if (unavailable || !server) return t.skip(unavailable);
    server.query(`CREATE DATABASE other`);
    server.query(`CREATE TABLE other.o (id UInt64 COMMENT 'other id') ENGINE = Memory COMMENT 'other table'`);
    server.query(`ALTER TABLE hard.src MODIFY COMMENT 'the source'`);
    const dir = await project(server.url, { hard: { tables: { src: 'the source' } } });
    try {
      const files = await importService(await loadProject(dir.dir), 'events', { databases: ['hard'] });
      assert.equal(files.length, 1, 'a file, not nothing');
      const content = files[0]?.content ?? '';
      assert.match(content, /^database: default$/m);
      assert.match(content, /^ {2}hard:$/m);
      assert.match(content, /the source/);
      assert.doesNotMatch(content, /other table/, 'only the database named');
      await assert.rejects(importService(await loadProject(dir.dir), 'events', { databases: ['nowhere'] }), /ClickHouse has no database nowhere/);
    } finally {
      await dir.remove();
    }
  });
});
