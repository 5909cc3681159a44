/**
 * Writes openapi-subset.json: the response schemas of the endpoints the GitHub emulator serves,
 * with the components they reference, taken from GitHub's official OpenAPI description
 * (@octokit/openapi, generated/api.github.com.json, MIT). Not a dependency: to refresh, run
 *   npm install --no-save --prefix /tmp/oapi @octokit/openapi@23
 *   npx tsx test/emulators/github/openapi-extract.ts /tmp/oapi/node_modules/@octokit/openapi/generated/api.github.com.json
 */
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export const SERVED: readonly [method: string, path: string][] = [
  ['get', '/user'],
  ['get', '/repos/{owner}/{repo}'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['patch', '/repos/{owner}/{repo}/issues/comments/{comment_id}'],
  ['get', '/repos/{owner}/{repo}/commits/{commit_sha}/pulls'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['patch', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['post', '/repos/{owner}/{repo}/pulls'],
  ['get', '/repos/{owner}/{repo}/issues'],
  ['post', '/repos/{owner}/{repo}/issues'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['patch', '/repos/{owner}/{repo}/issues/{issue_number}'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/labels'],
  ['get', '/repos/{owner}/{repo}/git/ref/{ref}'],
  ['post', '/repos/{owner}/{repo}/git/refs'],
  ['patch', '/repos/{owner}/{repo}/git/refs/{ref}'],
  ['post', '/repos/{owner}/{repo}/git/trees'],
  ['post', '/repos/{owner}/{repo}/git/commits'],
  ['get', '/repos/{owner}/{repo}/git/commits/{commit_sha}'],
];

type Json = Record<string, unknown>;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const spec = JSON.parse(await readFile(process.argv[2] ?? '', 'utf8')) as { info: { version: string }; paths: Record<string, Record<string, Json>>; components: Record<string, Record<string, Json>> };
  const schemas: Record<string, Json> = {};
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) visit(item);
    else if (node && typeof node === 'object')
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          const name = value.split('/').pop() ?? '';
          if (!(name in schemas)) {
            schemas[name] = spec.components['schemas']?.[name] ?? {};
            visit(schemas[name]);
          }
        } else visit(value);
      }
  };
  const responses: Record<string, Record<string, Json>> = {};
  for (const [method, path] of SERVED) {
    const operation = spec.paths[path]?.[method] as { responses: Record<string, Json> } | undefined;
    if (!operation) throw new Error(`${method} ${path} is not in the description`);
    for (const [status, response] of Object.entries(operation.responses)) {
      if (!status.startsWith('2')) continue;
      const resolved = (typeof response['$ref'] === 'string' ? spec.components['responses']?.[response['$ref'].split('/').pop() ?? ''] : response) as { content?: Record<string, { schema?: Json }> } | undefined;
      const schema = resolved?.content?.['application/json']?.schema;
      if (!schema) continue;
      visit(schema);
      (responses[`${method.toUpperCase()} ${path}`] ??= {})[status] = schema;
    }
  }
  const out = { source: `@octokit/openapi ${spec.info.version}, generated/api.github.com.json (MIT)`, responses, components: { schemas } };
  await writeFile(new URL('./openapi-subset.json', import.meta.url), `${JSON.stringify(out)}\n`);
  console.log(`${Object.keys(responses).length} operations, ${Object.keys(schemas).length} schemas`);
}
