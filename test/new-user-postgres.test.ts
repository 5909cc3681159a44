import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { metaform } from './support/cli.js';
import { startPglite, startServerPostgres, type TestPostgres } from './support/postgres.js';
import { tempProject } from './support/project.js';

const run = promisify(execFile);

/** What a new user hit on PostgreSQL (issues 20 and 22), each through the real CLI. */
describe('a new user on PostgreSQL, through the CLI', () => {
  let db: TestPostgres;
  before(async () => {
    const server = await startServerPostgres();
    db = 'skip' in server ? await startPglite() : server;
  });
  after(async () => db.close());
  const config = (extra: object = {}) => ({ version: 1, ...extra, services: { shop: { type: 'postgres', connection: db.connection } } });

  it('a journal that cannot be written mid-apply: nothing new starts, the committed operations it lacks go to stderr, exit 1 naming path and cause', async () => {
    const TABLES = 2000;
    await db.query(`CREATE SCHEMA full_disk; DO $$ BEGIN FOR i IN 1..${TABLES} LOOP EXECUTE format('CREATE TABLE full_disk.t%s (a int)', i); END LOOP; END $$`);
    const tables = Object.fromEntries(Array.from({ length: TABLES }, (_, i) => [`t${i + 1}`, { description: `table ${i + 1}: ${'a long enough description '.repeat(4)}` }]));
    const state = await mkdtemp(join(tmpdir(), 'metaform-full-'));
    // A 64 KiB tmpfs where the machine lets us mount one; else a 64 KiB file-size limit (EFBIG).
    const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', state]).then(
      () => true,
      () => false,
    );
    const project = await tempProject(config({ state }), { 'metadata/shop.yaml': { service: 'shop', database: db.connection.database, schemas: { full_disk: { tables } } } });
    try {
      const result = await metaform(project.dir, ['apply', '--auto-approve'], mounted ? {} : { wrapper: ['prlimit', '--fsize=65536'] });
      assert.equal(result.code, 1, result.stderr);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no raw stack');
      const [name] = await readdir(join(state, 'runs'));
      const path = join(state, 'runs', name ?? '');
      assert.match(result.stderr, new RegExp(`cannot write the run journal ${path.replace(/[.\\/]/g, '\\$&')}: ${mounted ? 'ENOSPC' : 'EFBIG'}`));
      assert.match(result.stderr, /no new operation was started/);
      const listed = [...result.stderr.matchAll(/committed, not journaled: shop\/\S+ (\S+):/g)].map((match) => match[1]);
      const journaled = (await readFile(path, 'utf8'))
        .split('\n')
        .flatMap((line) => {
          try {
            const entry = JSON.parse(line) as { type?: string; outcome?: string; id?: string };
            return entry.type === 'operation' && entry.outcome === 'succeeded' ? [entry.id] : [];
          } catch {
            return [];
          }
        });
      const { rows } = await db.query(`SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'full_disk' AND obj_description(c.oid, 'pg_class') IS NOT NULL`);
      const committed = (rows[0] as { n: number }).n;
      assert.ok(listed.length > 0, 'some committed operations are not in the journal, and are listed');
      assert.equal(journaled.length + listed.length, committed, 'every committed operation is in the journal or listed on stderr');
      assert.ok(committed < TABLES, `nothing new was started after the failure (${committed} of ${TABLES} committed)`);
    } finally {
      if (mounted) await run('umount', [state]);
      await rm(state, { recursive: true, force: true });
      await project.remove();
    }
  });

  it('an absolute state: path is used as written, by apply and status', async () => {
    await db.query(`CREATE SCHEMA abs_state; CREATE TABLE abs_state.t (a int)`);
    const state = join(await mkdtemp(join(tmpdir(), 'metaform-state-')), 'var', 'lib', 'x');
    const project = await tempProject(config({ state }), {
      'metadata/shop.yaml': { service: 'shop', database: db.connection.database, schemas: { abs_state: { tables: { t: 'documented' } } } },
    });
    try {
      const apply = await metaform(project.dir, ['apply', '--auto-approve']);
      assert.equal(apply.code, 0, apply.stderr);
      assert.match(apply.stdout, new RegExp(`Journal: ${join(state, 'runs').replace(/[.\\/]/g, '\\$&')}`));
      assert.equal((await readdir(join(state, 'runs'))).length, 1);
      await assert.rejects(readdir(join(project.dir, state)), 'nothing is written under the project folder');
      const status = await metaform(project.dir, ['status']);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /1 succeeded/);
    } finally {
      await rm(join(state, '..', '..', '..'), { recursive: true, force: true });
      await project.remove();
    }
  });

  it('connection.connectionString: import reads the database from the URL; YAML naming another database connects to it with the URL\'s other settings', async () => {
    await db.query(`CREATE SCHEMA url_db; CREATE TABLE url_db.t (a int); COMMENT ON TABLE url_db.t IS 'from the URL'`);
    const { host, port, user, database } = db.connection;
    const url = (name: string) => `postgres://${user}@${host}:${port}/${name}`;
    const imported = await tempProject({ version: 1, services: { shop: { type: 'postgres', connection: { connectionString: url(database) } } } });
    const other = await tempProject(
      { version: 1, services: { shop: { type: 'postgres', connection: { connectionString: url('template1') } } } },
      { 'metadata/shop.yaml': { service: 'shop', database, schemas: { url_db: { tables: { t: 'changed' } } } } },
    );
    try {
      const result = await metaform(imported.dir, ['import', '-s', 'shop', '--stdout']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`database: ${database}[\\s\\S]*url_db:[\\s\\S]*description: from the URL`));
      const plan = await metaform(other.dir, ['plan']);
      assert.equal(plan.code, 0, plan.stderr);
      assert.match(plan.stdout, /~ description: "from the URL" -> "changed"/);
    } finally {
      await imported.remove();
      await other.remove();
    }
  });

  it('import refuses to write a database that other files already define, naming them; several databases on stdout are separate documents', async () => {
    await db.query(`CREATE SCHEMA spread_a; CREATE SCHEMA spread_b; COMMENT ON SCHEMA spread_a IS 'a'`);
    const { database } = db.connection;
    const project = await tempProject(config(), {
      'metadata/a.yaml': { service: 'shop', database, schemas: { spread_a: { description: 'a' } } },
      'metadata/b.yaml': { service: 'shop', database, schemas: { spread_b: { description: null } } },
    });
    try {
      const forced = await metaform(project.dir, ['import', '-s', 'shop', '--force']);
      assert.equal(forced.code, 1, forced.stdout);
      assert.match(forced.stderr, new RegExp(`database ${database} of service shop is already defined in metadata/a\\.yaml, metadata/b\\.yaml`));
      const plan = await metaform(project.dir, ['plan']);
      assert.equal(plan.code, 0, `nothing was written that defines it twice: ${plan.stderr}`);
      const printed = await metaform(project.dir, ['import', '-s', 'shop', '-d', database, '-d', 'template1', '--stdout']);
      assert.equal(printed.code, 0, printed.stderr);
      const documents = parseAllDocuments(printed.stdout);
      assert.deepEqual(
        documents.map((document) => (document.toJS() as { database: string }).database),
        [database, 'template1'],
      );
      assert.ok(documents.every((document) => document.errors.length === 0));
    } finally {
      await project.remove();
    }
  });

  it('bad connection settings end every command with exit 1 at the metaform.yaml line, never on an unsettled promise (13)', async () => {
    // One service per kind of bad setting: validation reports them all at once, in every command.
    const kinds: { type: 'postgres' | 'mysql'; key: string; value: unknown }[] = [];
    for (const type of ['postgres', 'mysql'] as const) {
      kinds.push({ type, key: 'port', value: 'abc' }, { type, key: 'port', value: 99999 }, { type, key: 'port', value: type === 'mysql' ? '3306x' : '5432x' });
      kinds.push({ type, key: 'port', value: '${P:-5432}' }, { type, key: 'host', value: '' });
      kinds.push({ type, key: type === 'mysql' ? 'insecureAuth' : 'keepAlive', value: 'yes' });
    }
    const services = Object.fromEntries(
      kinds.map((kind, i) => [`s${i}`, { type: kind.type, connection: { host: '127.0.0.1', port: kind.type === 'mysql' ? 3306 : 5432, user: 'metaform', database: 'x', [kind.key]: kind.value } }]),
    );
    const metadata = Object.fromEntries(
      kinds.map((kind, i) => [`metadata/s${i}.yaml`, { service: `s${i}`, database: kind.type === 'mysql' ? 'default' : 'x', schemas: { s: { tables: { t: 'x' } } } }]),
    );
    const project = await tempProject({ version: 1, services }, metadata);
    try {
      const lines = (await readFile(join(project.dir, 'metaform.yaml'), 'utf8')).split('\n');
      const commands = [['validate'], ['plan'], ['apply', '--auto-approve'], ['drift'], ['import', '-s', 's0', '--stdout']];
      const results = await Promise.all(commands.map((args) => metaform(project.dir, args, { env: { P: 'abc' } })));
      results.forEach((result, c) => {
        assert.equal(result.code, 1, `${commands[c]?.join(' ')}: ${result.stderr}`);
        kinds.forEach((kind, i) => {
          const service = lines.findIndex((text) => text === `  s${i}:`);
          const line = lines.findIndex((text, n) => n > service && text.trimStart().startsWith(`${kind.key}:`)) + 1;
          assert.match(result.stderr, new RegExp(`metaform\\.yaml:${line}:\\d+: services\\.s${i}\\.connection\\.${kind.key} is `), `${commands[c]?.join(' ')}: ${kind.type} ${kind.key}: ${JSON.stringify(kind.value)}`);
        });
      });
    } finally {
      await project.remove();
    }
  });

  it('${VAR} outside connection: is refused at its line; an unset variable is placed at the ${VAR} line', async () => {
    const outside = await tempProject({ version: 1, state: '${STATE_DIR}', services: { shop: { type: 'postgres', databases: ['${DB}'], connection: db.connection } } });
    const unset = await tempProject({ version: 1, services: { shop: { type: 'postgres', connection: { ...db.connection, password: '${NU_UNSET_PASSWORD}' } } } }, {
      'metadata/shop.yaml': { service: 'shop', database: db.connection.database },
    });
    try {
      const lines = (await readFile(join(outside.dir, 'metaform.yaml'), 'utf8')).split('\n');
      const result = await metaform(outside.dir, ['validate']);
      assert.equal(result.code, 1);
      for (const [key, text] of [['state', 'state: ${STATE_DIR}'], ['services.shop.databases.0', '- ${DB}']] as const) {
        const line = lines.findIndex((each) => each.trim() === text) + 1;
        assert.match(result.stderr, new RegExp(`metaform\\.yaml:${line}:\\d+: ${key.replaceAll('.', '\\.')}: \\$\\{VAR\\} is read only in services`));
      }
      const plan = await metaform(unset.dir, ['plan']);
      assert.equal(plan.code, 1);
      const passwordLine = (await readFile(join(unset.dir, 'metaform.yaml'), 'utf8')).split('\n').findIndex((each) => each.includes('${NU_UNSET_PASSWORD}')) + 1;
      assert.match(plan.stderr, new RegExp(`metaform\\.yaml:${passwordLine}:\\d+: service shop: the connection reads unset environment variable NU_UNSET_PASSWORD`));
    } finally {
      await outside.remove();
      await unset.remove();
    }
  });

  it('status names and skips a run file without "planned", in text and JSON', async () => {
    const project = await tempProject(config());
    try {
      await project.write('.metaform/runs/2026-01-01T00-00-00-000Z-1.jsonl', `${JSON.stringify({ type: 'run', id: 'r1', command: 'apply', startedAt: '2026-01-01T00:00:00.000Z', pid: 1, host: 'x' })}\n`);
      for (const args of [['status'], ['status', '--format', 'json']]) {
        const result = await metaform(project.dir, args);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /skipped unreadable run file \.metaform\/runs\/2026-01-01T00-00-00-000Z-1\.jsonl: its run header has no "planned" counts/);
        assert.doesNotMatch(result.stderr, /Cannot read properties/);
      }
    } finally {
      await project.remove();
    }
  });

  it('the README quick start works as written', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const block = /## Quick start on a real database\n[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const steps = block.split('\n').map((line) => line.replace(/\s+#.*$/, '').trim());
    const exported = steps.find((line) => line.startsWith('export '));
    assert.ok(exported, 'the quick start sets the connection through the environment');
    // The variables the README exports, with this server's values.
    const values: Record<string, string> = { PGHOST: db.connection.host, PGUSER: db.connection.user, PGPASSWORD: db.connection.password ?? '', PGDATABASE: db.connection.database };
    const env: Record<string, string> = { PGPORT: String(db.connection.port) };
    for (const name of exported.slice('export '.length).split(/\s+/).map((each) => each.split('=')[0] ?? '')) env[name] = values[name] ?? '';
    await db.query(`CREATE SCHEMA quick; CREATE TABLE quick.orders (id int); COMMENT ON TABLE quick.orders IS 'orders'`);
    const dir = await mkdtemp(join(tmpdir(), 'metaform-quick-'));
    try {
      for (const line of steps.filter((each) => each.startsWith('metaform '))) {
        // A saved plan goes to the project folder (a relative --out is the working directory's).
        const args = line.split(/\s+/).slice(1).map((arg) => (arg === 'plan.json' ? join(dir, 'plan.json') : arg));
        if (args[0] === 'plan' && args.includes('--out')) {
          // The edit the quick start asks for, in the file import wrote.
          const path = join(dir, 'metadata', 'warehouse', `${db.connection.database}.yaml`);
          await writeFile(path, (await readFile(path, 'utf8')).replace('description: orders', 'description: one row per order'));
        }
        const result = await metaform(dir, args, { env });
        assert.equal(result.code, 0, `metaform ${args.join(' ')}: ${result.stderr}${result.stdout}`);
      }
      const { rows } = await db.query(`SELECT obj_description('quick.orders'::regclass, 'pg_class') AS d`);
      assert.equal((rows[0] as { d: string }).d, 'one row per order');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('"no" at the apply prompt (on a terminal) exits 1 and applies nothing', async () => {
    await db.query(`CREATE SCHEMA prompt_no; CREATE TABLE prompt_no.t (a int)`);
    const project = await tempProject(config(), { 'metadata/shop.yaml': { service: 'shop', database: db.connection.database, schemas: { prompt_no: { tables: { t: 'not wanted' } } } } });
    try {
      // script(1) gives the CLI a terminal, as a user at a prompt has.
      const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
      const child = spawn('script', ['-qec', `${process.execPath} --import tsx ${main} --dir ${project.dir} apply`, '/dev/null'], { env: { ...process.env, NO_COLOR: '1' } });
      let output = '';
      let answered = false;
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (!answered && output.includes("Only 'yes' is accepted")) {
          answered = true;
          child.stdin.write('no\n');
        }
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 1, output);
      assert.match(output, /Apply cancelled\./);
      const { rows } = await db.query(`SELECT obj_description('prompt_no.t'::regclass, 'pg_class') AS d`);
      assert.equal((rows[0] as { d: string | null }).d, null);
    } finally {
      await project.remove();
    }
  });

  it('init --force says which files it overwrote, and its scaffold lists every system type', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metaform-init-'));
    try {
      assert.equal((await metaform(dir, ['init'])).code, 0);
      const again = await metaform(dir, ['init', '--force']);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /Overwrote metaform\.yaml/);
      assert.doesNotMatch(again.stdout, /Created metaform\.yaml/);
      assert.match(await readFile(join(dir, 'metaform.yaml'), 'utf8'), /postgres \| redshift \| mysql \| clickhouse \| snowflake \| databricks \| unitycatalog/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drift names its sides (source, YAML) and does not use plan wording', async () => {
    await db.query(`CREATE SCHEMA drift_sides; CREATE TABLE drift_sides.t (a int, b int); COMMENT ON TABLE drift_sides.t IS 'edited by hand'; COMMENT ON COLUMN drift_sides.t.b IS 'left'`);
    const project = await tempProject(config(), {
      'metadata/shop.yaml': { service: 'shop', database: db.connection.database, schemas: { drift_sides: { tables: { t: { description: 'from git', columns: { a: 'added in git', b: null } } } } } },
    });
    try {
      for (const format of ['text', 'markdown']) {
        const result = await metaform(project.dir, ['drift', '--format', format]);
        assert.equal(result.code, 2, result.stderr);
        assert.doesNotMatch(result.stdout, /to add|to change|to remove|->/, format);
        if (format === 'text') {
          assert.match(result.stdout, /~ description: source "edited by hand", YAML "from git"/);
          assert.match(result.stdout, /\+ description: source \(none\), YAML "added in git"/);
          assert.match(result.stdout, /- description: source "left", YAML \(none\)/);
          assert.match(result.stdout, /Drift: 3 properties differ from the YAML: 1 the source lacks, 1 with another value at the source, 1 the YAML removes\./);
        } else assert.match(result.stdout, /\| \| Object \| Property \| Source \| YAML \|/);
      }
    } finally {
      await project.remove();
    }
  });

  it('a statement shown with escaped control characters is marked as not runnable as shown', async () => {
    await db.query(`CREATE SCHEMA shown_sql; CREATE TABLE shown_sql.t (a int)`);
    const project = await tempProject(config(), { 'metadata/shop.yaml': { service: 'shop', database: db.connection.database, schemas: { shown_sql: { tables: { t: { description: 'line\rfeed', columns: { a: 'plain' } } } } } } });
    try {
      const text = await metaform(project.dir, ['plan']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /IS 'line\\u000dfeed'\n {6}\(shown with control characters as \\uXXXX, not runnable as shown/);
      assert.equal(text.stdout.match(/not runnable as shown/g)?.length, 1, 'only the statement with a control character is marked');
      const markdown = await metaform(project.dir, ['plan', '--format', 'markdown']);
      assert.match(markdown.stdout, /-- shown with control characters as \\uXXXX, not runnable as shown[^\n]*\nCOMMENT ON TABLE "shown_sql"\."t" IS 'line\\u000dfeed';/);
      const json = JSON.parse((await metaform(project.dir, ['plan', '--format', 'json'])).stdout) as { operations: { statements: string[] }[] };
      assert.ok(json.operations.some((operation) => operation.statements.some((statement) => statement.includes('line\rfeed'))), 'the JSON plan has the statement exactly');
    } finally {
      await project.remove();
    }
  });

  it('the word diff shows a quote as a quote (and a backslash escaped)', async () => {
    await db.query(`CREATE SCHEMA word_diff; CREATE TABLE word_diff.t (a int); COMMENT ON TABLE word_diff.t IS 'a long description of the table that is shown as a word diff, "quoted" here'`);
    const project = await tempProject(config(), {
      'metadata/shop.yaml': { service: 'shop', database: db.connection.database, schemas: { word_diff: { tables: { t: 'a long description of the table that is shown as a word diff, "requoted" \\ here' } } } },
    });
    try {
      const result = await metaform(project.dir, ['plan']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /word diff, "\[-quoted-\]\{\+requoted\+\}" \{\+\\\\ \+\}here/);
    } finally {
      await project.remove();
    }
  });

  it('-C with a folder that does not exist is an error naming it, for init too', async () => {
    const missing = join(tmpdir(), `metaform-missing-${process.pid}`);
    for (const args of [['plan'], ['init']]) {
      const result = await metaform(missing, args);
      assert.equal(result.code, 1, `${args[0]}: ${result.stdout}`);
      assert.match(result.stderr, new RegExp(`project folder ${missing.replace(/[.\\/]/g, '\\$&')} does not exist`));
    }
    await assert.rejects(readdir(missing), 'init created nothing');
  });
});
