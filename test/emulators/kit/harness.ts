import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RunningEmulator {
  url: string;
  port: number;
  /** Every request, as `METHOD path` (tests assert what reached the emulator, and that nothing else did). */
  requests: string[];
  close(): Promise<void>;
}

export type Handler = (request: IncomingMessage, body: Buffer) => Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;

/** The body, gunzipped when it starts with gzip's magic bytes (clients may set the header late). */
async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
}

/** An HTTP/JSON emulator on 127.0.0.1, on a port the system picks. */
export async function startHttpEmulator(handler: Handler): Promise<RunningEmulator> {
  const requests: string[] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests.push(`${request.method} ${request.url}`);
    readBody(request)
      .then((body) => handler(request, body))
      .then(({ status, body, headers }) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(typeof body === 'string' ? body : JSON.stringify(body));
      })
      .catch((error: unknown) => {
        response.writeHead(400, { 'content-type': 'text/plain' });
        response.end(String(error instanceof Error ? error.stack : error));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
