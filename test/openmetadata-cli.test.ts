import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { context } from '@actions/github';
import type { RunContext } from '../src/action/context.js';
import { pullCommand } from '../src/action/pull.js';
import { buildFqn } from './emulators/openmetadata/fqn.js';
import { GitHubEmulator } from './emulators/github/server.js';
import { manualTag, startOpenMetadataEmulator, type OpenMetadataEmulator } from './emulators/openmetadata/server.js';
import { metaform, type CliResult } from './support/cli.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

const run = promisify(execFile);
const JANE = `mf_cli_jane_${process.pid}`;
const TOKEN = 'bot-token-never-shown';
const ENV = { OM_CLI_TOKEN: TOKEN };
/** The emulator's change summaries are dated from 2026-01-01 (its own clock). */
const SINCE_EMULATOR_START = '2026-01-01T00:00:00Z';

async function personEdit(emulator: OpenMetadataEmulator, fqn: string, operations: unknown[]): Promise<void> {
  const entity = emulator.entity(fqn);
  assert.ok(entity, `no entity ${fqn}`);
  const response = await fetch(`${emulator.url}/api/v1/tables/${entity.id}?changeSource=Manual`, {
    method: 'PATCH',
    headers: { authorization: 'Bearer jane-token', 'content-type': 'application/json-patch+json' },
    body: JSON.stringify(operations),
  });
  assert.equal(response.status, 200, await response.text());
}

describe('OpenMetadata through the CLI (PGlite and the emulator)', () => {
  let db: TestPostgres;
  let emulator: OpenMetadataEmulator;
  let project: TempProject;
  let yamlPath: string;
  const outputs: CliResult[] = [];
  const cli = async (...args: string[]) => {
    const result = await metaform(project.dir, args, { env: ENV });
    outputs.push(result);
    return result;
  };
  const ordersFqn = () => buildFqn('warehouse', db.connection.database, 'sales', 'orders');
  const yaml = () => readFile(join(project.dir, yamlPath), 'utf8');

  before(async () => {
    db = await startPglite();
    await db.query(`
      DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${JANE}') THEN CREATE ROLE ${JANE}; END IF; END $$;
      CREATE SCHEMA sales;
      CREATE TABLE sales.orders (id int PRIMARY KEY, email text, amount numeric);
      CREATE TABLE sales.customers (id int, name text);
      COMMENT ON SCHEMA sales IS 'Sales data mart';
      COMMENT ON TABLE sales.orders IS 'Orders, from the catalog';
      COMMENT ON COLUMN sales.orders.id IS 'Primary key';
      COMMENT ON COLUMN sales.orders.email IS 'Buyer e-mail';
      ALTER TABLE sales.orders OWNER TO ${JANE};
    `);
    emulator = await startOpenMetadataEmulator({ version: '1.9.0', etag: true });
    emulator.addUser('jane', 'jane@corp.com', false, 'jane-token');
    emulator.addUser('metaform-bot', 'metaform@corp.com', true, TOKEN);
    emulator.addTag('PII', 'Sensitive');
    const database = db.connection.database;
    emulator.addEntity('database', 'warehouse', database);
    emulator.addEntity('databaseSchema', buildFqn('warehouse', database), 'sales', { description: 'Sales data mart' });
    emulator.addEntity('table', buildFqn('warehouse', database, 'sales'), 'orders', {
      description: 'Orders, from the catalog',
      owners: ['jane'],
      columns: [{ name: 'id', description: 'Primary key' }, { name: 'email', description: 'Buyer e-mail', tags: [manualTag('PII.Sensitive')] }, { name: 'amount' }],
    });
    emulator.addEntity('table', buildFqn('warehouse', database, 'sales'), 'customers', { columns: [{ name: 'id' }, { name: 'name' }] });
    project = await tempProject(
      {
        version: 1,
        services: { warehouse: { type: 'postgres', connection: { ...db.connection, password: '${PG_TEST_PASSWORD:-}' }, owners: { map: { 'jane@corp.com': JANE } } } },
        openmetadata: { url: emulator.url, token: '${OM_CLI_TOKEN}', push: true },
      },
      { 'metadata/.keep.yaml': '' },
    );
  });
  after(async () => {
    await project?.remove();
    await emulator?.close();
    await db?.close();
  });

  it('import --from openmetadata writes YAML that plans to no changes; a tag PostgreSQL cannot hold is a warning', async () => {
    const printed = await cli('import', '--from', 'openmetadata', '-s', 'warehouse', '--stdout');
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stdout, /description: Orders, from the catalog/);
    const imported = await cli('import', '--from', 'openmetadata', '-s', 'warehouse');
    assert.equal(imported.code, 0, imported.stderr);
    const [, path] = /Wrote (\S+)/.exec(imported.stdout) ?? [];
    assert.ok(path, imported.stdout);
    yamlPath = path;
    assert.match(imported.stderr, /Warning: warehouse\.postgres\.sales\.orders\.email: tags: .*left out/);
    assert.match(await yaml(), /owners:\n\s+- jane@corp.com/);
    const again = await cli('import', '--from', 'openmetadata', '-s', 'warehouse');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists.*--force/s);
    assert.equal((await cli('import', '--from', 'openmetadata', '-s', 'warehouse', '--force')).code, 0);
    const plan = await cli('plan', '--detailed-exitcode');
    assert.equal(plan.code, 0, plan.stdout + plan.stderr);
  });

  it("pull writes a person's catalog edit into the YAML in place; pulling again writes nothing", async () => {
    await personEdit(emulator, ordersFqn(), [{ op: 'replace', path: '/description', value: 'One row per order, edited in the catalog' }]);
    const before = await yaml();
    const dry = await cli('pull', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /~ warehouse\.postgres\.sales\.orders description: "Orders, from the catalog" -> "One row per order, edited in the catalog" \(by jane\)/);
    assert.match(dry.stdout, /Dry run: 1 edit would be written/);
    assert.equal(await yaml(), before);

    const pulled = await cli('pull');
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stderr, /all edits \(no apply in the journal yet\)/);
    assert.match(pulled.stdout, new RegExp(`Pulled 1 edit into 1 file: ${yamlPath}`));
    const edited = await yaml();
    assert.equal(edited, before.replace('description: Orders, from the catalog', 'description: One row per order, edited in the catalog'));

    const second = await cli('pull');
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /No catalog edits to pull\./);
    assert.equal(await yaml(), edited, 'the second pull writes nothing');
  });

  it('apply with openmetadata.push changes the source, then the catalog; drift is clean on all three sides', async () => {
    const text = await yaml();
    await writeFile(join(project.dir, yamlPath), text.replace('One row per order, edited in the catalog', 'Reviewed in a pull request'));
    const applied = await cli('apply', '--auto-approve');
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.match(applied.stdout, /Catalog: 1 entity written: 1 succeeded, 0 failed\./);
    const orders = emulator.entity(ordersFqn());
    assert.equal(orders?.description, 'Reviewed in a pull request');
    assert.equal(orders?.changeSummary['description']?.changedBy, 'metaform-bot');
    const comment = await db.query(`SELECT obj_description('sales.orders'::regclass, 'pg_class') AS d`);
    assert.equal(comment.rows[0]?.d, 'Reviewed in a pull request');

    const runs = await readdir(join(project.dir, '.metaform/runs'));
    const catalogJournal = runs.find((name) => name.endsWith('.catalog.jsonl'));
    assert.ok(catalogJournal, `a catalog journal beside the run: ${runs.join(', ')}`);
    const lines = (await readFile(join(project.dir, '.metaform/runs', catalogJournal), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { type: string; outcome: string; entityFqn: string });
    assert.deepEqual(lines.map((line) => [line.type, line.outcome, line.entityFqn]), [['catalog-write', 'succeeded', ordersFqn()]]);
    const status = await cli('status');
    assert.equal(status.code, 0);
    assert.doesNotMatch(status.stdout + status.stderr, /unreadable/, 'the catalog journal is not read as a run');

    const drift = await cli('drift');
    assert.equal(drift.code, 0, drift.stdout + drift.stderr);
    assert.match(drift.stdout, /No drift: the YAML, the source and the catalog agree\./);
    assert.equal((await cli('pull')).code, 0);
    assert.equal(await yaml(), text.replace('One row per order, edited in the catalog', 'Reviewed in a pull request'), "metaform's own catalog writes are not pulled back");
  });

  it('an out-of-band catalog edit is three-way drift naming the catalog side and who made it (text, JSON, Markdown)', async () => {
    await personEdit(emulator, ordersFqn(), [{ op: 'replace', path: '/columns/0/description', value: 'Changed in the catalog\u001b[31m' }]);
    const text = await cli('drift');
    assert.equal(text.code, 2, text.stdout + text.stderr);
    assert.match(text.stdout, /~ warehouse\.postgres\.sales\.orders\.id description: differs in catalog/);
    assert.match(text.stdout, /yaml: {4}"Primary key"/);
    assert.match(text.stdout, /catalog: "Changed in the catalog\\u001b\[31m" \(differs\) {2}last changed by jane \(Manual\)/);
    assert.ok(!text.stdout.includes('\u001b'), 'control characters are escaped');

    const json = await cli('drift', '--format', 'json');
    assert.equal(json.code, 2);
    const report = JSON.parse(json.stdout) as { summary: { drift: boolean; catalog: number; source: number }; services: { rows: { id: string; differs: string[]; catalog: string; yaml: string; catalogLastChange?: { changedBy?: string } }[] }[] };
    assert.deepEqual(report.summary, { ...report.summary, drift: true, catalog: 1, source: 0 });
    const [row] = report.services[0]?.rows ?? [];
    assert.deepEqual([row?.id, row?.differs, row?.yaml, row?.catalog, row?.catalogLastChange?.changedBy], [`${'warehouse.postgres.sales.orders.id'}#description`, ['catalog'], 'Primary key', 'Changed in the catalog\u001b[31m', 'jane']);

    const markdown = await cli('drift', '--format', 'markdown');
    assert.equal(markdown.code, 2);
    assert.match(markdown.stdout, /\| `warehouse\.postgres\.sales\.orders\.id` \| description \| Primary key \| Primary key \| \*\*Changed in the catalog\\u001b\[31m\*\* \| catalog \| jane \(Manual\)/);

    const twoWay = await cli('drift', '--no-catalog');
    assert.equal(twoWay.code, 0, 'the source agrees with the YAML');
  });

  it('pull takes edits since the last apply by default; --since and --branch commit an older one on a new branch', async () => {
    const unchanged = await yaml();
    const byDefault = await cli('pull');
    assert.equal(byDefault.code, 0);
    assert.match(byDefault.stderr, /since the last apply/);
    assert.match(byDefault.stdout, /No catalog edits to pull\./, 'the emulator dates its edits before the apply');
    assert.equal(await yaml(), unchanged);

    await run('git', ['init', '-q', '-b', 'main'], { cwd: project.dir });
    await run('git', ['add', '-A'], { cwd: project.dir });
    await run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'base'], { cwd: project.dir });
    const branched = await metaform(project.dir, ['pull', '--since', SINCE_EMULATOR_START, '--branch', 'om-edits'], { env: { ...ENV, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    outputs.push(branched);
    assert.equal(branched.code, 0, branched.stderr);
    assert.match(branched.stdout, /~ warehouse\.postgres\.sales\.orders\.id description: "Primary key" -> "Changed in the catalog\\u001b\[31m" \(by jane\)/);
    assert.match(branched.stdout, new RegExp(`Committed 1 file on branch om-edits \\([0-9a-f]+\\): ${yamlPath}`));
    const { stdout: branch } = await run('git', ['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: project.dir });
    assert.equal(branch.trim(), 'om-edits');
    const { stdout: changed } = await run('git', ['show', '--stat', '--format=%s', 'HEAD'], { cwd: project.dir });
    assert.match(changed, new RegExp(`metaform pull: catalog edits from OpenMetadata[\\s\\S]*${yamlPath.replaceAll('/', '\\/')}`));
    const applied = await cli('apply', '--auto-approve');
    assert.equal(applied.code, 0, applied.stdout + applied.stderr);
    assert.equal((await cli('drift')).code, 0);
  });

  it('a failed catalog write fails the apply (exit 1), status lists it, push retries it', async () => {
    const text = await yaml();
    await writeFile(join(project.dir, yamlPath), text.replace('Reviewed in a pull request', 'Second review'));
    emulator.failNext('PATCH', `/tables/${emulator.entity(ordersFqn())?.id}`, 500, 4);
    const applied = await cli('apply', '--auto-approve');
    assert.equal(applied.code, 1, applied.stdout + applied.stderr);
    assert.match(applied.stdout, /Apply complete: 1 operation: 1 succeeded, 0 failed/);
    assert.match(applied.stderr, new RegExp(`failed openmetadata:table:${ordersFqn().replaceAll('.', '\\.')}: OpenMetadata at ${emulator.url}: .*HTTP 500`));
    assert.match(applied.stdout, /Catalog: 1 entity written: 0 succeeded, 1 failed\./);

    const status = await cli('status');
    assert.equal(status.code, 0);
    assert.match(status.stdout, /Catalog writes that failed in the latest run \(1; `metaform push` retries them\):/);
    assert.match(status.stdout, new RegExp(`x openmetadata:table:${ordersFqn().replaceAll('.', '\\.')}: .*HTTP 500`));

    const drift = await cli('drift');
    assert.equal(drift.code, 2);
    assert.match(drift.stdout, /orders description: differs in catalog/);

    const pushed = await cli('push');
    assert.equal(pushed.code, 0, pushed.stdout + pushed.stderr);
    assert.match(pushed.stdout, /Catalog: 1 entity written: 1 succeeded, 0 failed\./);
    assert.equal(emulator.entity(ordersFqn())?.description, 'Second review');
    const again = await cli('push');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /nothing to push/);
    assert.equal((await cli('drift')).code, 0);
  });

  it('push exits 1 when a write fails', async () => {
    const text = await yaml();
    await writeFile(join(project.dir, yamlPath), text.replace('Second review', 'Third review'));
    await writeFile(join(project.dir, 'metaform.yaml'), (await readFile(join(project.dir, 'metaform.yaml'), 'utf8')).replace('push: true', 'push: false'));
    const applied = await cli('apply', '--auto-approve');
    assert.equal(applied.code, 0);
    assert.doesNotMatch(applied.stdout, /Catalog:/, 'push: false leaves the catalog alone');
    emulator.failNext('PATCH', '/tables/', 500, 4);
    const pushed = await cli('push');
    assert.equal(pushed.code, 1);
    assert.match(pushed.stderr, /failed openmetadata:table:.*HTTP 500/);
    assert.equal((await cli('push')).code, 0);
  });

  it('the token is never printed, and never in the journal', async () => {
    for (const result of outputs) assert.ok(!(result.stdout + result.stderr).includes(TOKEN));
    for (const name of await readdir(join(project.dir, '.metaform/runs'))) assert.ok(!(await readFile(join(project.dir, '.metaform/runs', name), 'utf8')).includes(TOKEN), name);
  });

  it('warns about a token written into metaform.yaml, without showing it', async () => {
    const path = join(project.dir, 'metaform.yaml');
    await writeFile(path, (await readFile(path, 'utf8')).replace('${OM_CLI_TOKEN}', TOKEN));
    const pushed = await metaform(project.dir, ['push']);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stderr, /metaform\.yaml:\d+:\d+: openmetadata\.token is written in the file.*\$\{OPENMETADATA_TOKEN\}/);
    assert.ok(!(pushed.stdout + pushed.stderr).includes(TOKEN));
  });

  it('the action turns catalog edits into a pull request', async () => {
    const github = await new GitHubEmulator('acme/warehouse').start();
    const previous = { api: process.env['GITHUB_API_URL'], token: process.env['OM_CLI_TOKEN'] };
    process.env['GITHUB_API_URL'] = github.url;
    process.env['OM_CLI_TOKEN'] = TOKEN;
    try {
      github.grant('ghs_write', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write', contents: 'write' } });
      github.actionsMayCreatePullRequests = true;
      github.commitFiles('main', { 'metaform.yaml': 'version: 1\n' });
      const path = join(project.dir, 'metaform.yaml');
      await writeFile(path, (await readFile(path, 'utf8')).replace(TOKEN, '${OM_CLI_TOKEN}'));
      await personEdit(emulator, ordersFqn(), [{ op: 'replace', path: '/columns/1/description', value: 'Edited for the action' }]);
      const before = await yaml();
      const runContext = { project: '.', target: '*', root: project.dir, repo: { owner: 'acme', repo: 'warehouse' }, token: 'ghs_write' } as RunContext;
      context.payload = { repository: { name: 'warehouse', owner: { login: 'acme' }, default_branch: 'main' } };
      await pullCommand(runContext);
      const proposed = github.filesOf('metaform/pull').get(yamlPath);
      assert.ok(proposed?.includes('Edited for the action'), proposed);
      assert.equal(proposed, before.replace('Buyer e-mail', 'Edited for the action'));
      assert.equal(await yaml(), before, 'the workspace is left as it was');
      const pr = [...github.issues.values()].find((issue) => issue.pull_request?.head === 'metaform/pull');
      assert.equal(pr?.title, 'metaform: 1 catalog edit from OpenMetadata');
      assert.match(pr?.body ?? '', /by jane/);
    } finally {
      for (const [key, value] of [['GITHUB_API_URL', previous.api], ['OM_CLI_TOKEN', previous.token]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await github.stop();
    }
  });

  it('--help on pull, push and drift says what they do and their exit codes', async () => {
    const pull = await metaform(project.dir, ['pull', '--help']);
    assert.equal(pull.code, 0);
    assert.match(pull.stdout, /--since <time>[\s\S]*--branch <name>[\s\S]*--dry-run[\s\S]*2 an edit was listed and not written/);
    const push = await metaform(project.dir, ['push', '--help']);
    assert.match(push.stdout, /1 a catalog write failed/);
    const drift = await metaform(project.dir, ['drift', '--help']);
    assert.match(drift.stdout, /--no-catalog[\s\S]*three-way/);
  });
});

describe('openmetadata: in metaform.yaml', () => {
  it('push, createTags and botUsers are typed: a wrong value is an error at its line', async () => {
    const project = await tempProject({ version: 1, services: { w: { type: 'postgres' } }, openmetadata: { url: 'http://127.0.0.1:1', push: 'yes', createTags: true, botUsers: 'metaform-bot' } }, { 'metadata/w.yaml': '' });
    try {
      const validate = await metaform(project.dir, ['validate']);
      assert.equal(validate.code, 1);
      assert.match(validate.stderr, /metaform\.yaml:\d+:\d+: openmetadata\.push must be boolean/);
      assert.match(validate.stderr, /metaform\.yaml:\d+:\d+: openmetadata\.botUsers must be array/);
      assert.doesNotMatch(validate.stderr, /createTags/);
    } finally {
      await project.remove();
    }
  });
});
