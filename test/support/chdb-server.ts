import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createRequire } from 'node:module';

/** The part of chDB's Session this endpoint uses (the package ships CommonJS without ESM types). */
interface ChdbSession {
  query(sql: string, format?: string): string;
  cleanup(): void;
}

export interface ChdbServer {
  url: string;
  /** Every statement the endpoint executed, in order (tests assert what reached the engine). */
  statements: string[];
  /** Runs SQL directly on the engine, bypassing HTTP (fixtures and checks). */
  query(sql: string, format?: string): string;
  close(): Promise<void>;
}

/**
 * Whether chDB loads on this machine (its engine is a per-platform package that npm may not
 * have installed); the reason to skip when it does not, or a failure under
 * METAFORM_REQUIRE_CHDB=1 (CI), where nothing real may be skipped.
 */
export function chdbUnavailable(): string | undefined {
  try {
    createRequire(import.meta.url)('chdb');
    return undefined;
  } catch (error) {
    const reason = `chDB (the ClickHouse engine for tests) does not load here: ${(error as Error).message.split('\n')[0]}`;
    if (process.env['METAFORM_REQUIRE_CHDB'] === '1') throw new Error(`${reason}; METAFORM_REQUIRE_CHDB=1 makes this a failure`, { cause: error });
    return `${reason}; ClickHouse end-to-end tests skipped`;
  }
}

/**
 * ClickHouse's HTTP interface, as far as @clickhouse/client uses it, in front of the real
 * ClickHouse engine (chDB): GET /ping, POST / with the query in the body, settings and
 * `default_format` in the URL, gzip both ways, X-ClickHouse-* headers, and errors as HTTP 500
 * with ClickHouse's own `Code: N. DB::Exception: ... (NAME)` text, which the client parses.
 * Statements go to the engine unchanged, so what real ClickHouse rejects fails here too.
 */
export async function startChdbServer(): Promise<ChdbServer> {
  const { Session } = createRequire(import.meta.url)('chdb') as { Session: new (path: string) => ChdbSession };
  const dir = await mkdtemp(join(tmpdir(), 'metaform-chdb-'));
  const session = new Session(dir);
  const statements: string[] = [];
  let queries = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname === '/ping' || (request.method === 'GET' && url.pathname === '/' && !url.searchParams.has('query'))) {
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end('Ok.\n');
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    let body = Buffer.concat(chunks);
    if (request.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
    const sql = [url.searchParams.get('query'), body.toString('utf8')].filter((part) => part).join('\n');
    const queryId = url.searchParams.get('query_id') ?? `chdb-${++queries}`;
    const format = url.searchParams.get('default_format') ?? 'TabSeparated';
    const headers: Record<string, string> = {
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Format': format,
      'X-ClickHouse-Server-Display-Name': 'chdb',
    };
    try {
      statements.push(sql);
      const result = Buffer.from(session.query(sql, format), 'utf8');
      headers['X-ClickHouse-Summary'] = JSON.stringify({ read_rows: '0', read_bytes: '0', written_rows: '0', written_bytes: '0', total_rows_to_read: '0', result_rows: '0', result_bytes: String(result.length), elapsed_ns: '0' });
      const gzip = url.searchParams.get('enable_http_compression') === '1' && /\bgzip\b/.test(String(request.headers['accept-encoding'] ?? ''));
      if (gzip) headers['Content-Encoding'] = 'gzip';
      response.writeHead(200, { 'Content-Type': 'text/plain; charset=UTF-8', ...headers }).end(gzip ? gzipSync(result) : result);
    } catch (error) {
      const message = (error as Error).message.replace(/^Query failed: /, '');
      const code = /Code: (\d+)/.exec(message)?.[1] ?? '1000';
      response.writeHead(500, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': code, ...headers }).end(`${message} (version chdb)\n`);
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => response.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    statements,
    query: (sql, format = 'JSONCompactEachRow') => session.query(sql, format),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      session.cleanup();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
