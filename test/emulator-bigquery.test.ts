/**
 * The BigQuery emulator on its own, through the unmodified @google-cloud/bigquery client: what
 * it accepts and rejects, each rule from the BigQuery documentation (cited in the emulator).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { startBigQueryEmulator, type BigQueryEmulator } from './emulators/bigquery/server.js';

const PROJECT = 'emu-proj';

describe('BigQuery emulator: REST v2 and GoogleSQL as the documentation has them', () => {
  let emulator: BigQueryEmulator;
  let client: BigQuery;
  const clientFor = (token: string) => {
    const auth = new OAuth2Client();
    auth.setCredentials({ access_token: token, expiry_date: Date.now() + 3600_000 });
    return new BigQuery({ projectId: PROJECT, location: 'US', apiEndpoint: emulator.url, authClient: auth as never });
  };
  before(async () => {
    emulator = await startBigQueryEmulator({ projectId: PROJECT, pageRows: 3 });
    const ds = emulator.engine.addDataset(PROJECT, 'ds', { description: 'd', labels: { team: 'a' } });
    for (let i = 0; i < 4; i++) emulator.engine.addTable(ds, `t${i}`, [{ name: 'a', type: 'STRING' }, { name: 'r', type: 'RECORD', fields: [{ name: 'x', type: 'INT64' }] }]);
    emulator.engine.addTable(ds, 'v', [{ name: 'a', type: 'STRING' }], { type: 'VIEW' });
    emulator.engine.addDataset(PROJECT, 'eu', { location: 'EU' });
    client = clientFor(emulator.connection.accessToken);
  });
  after(() => emulator.close());

  const rejects = async (sql: string, pattern: RegExp, status = 400) =>
    assert.rejects(client.query({ query: sql, location: 'US' }), (error: Error & { code?: number }) => {
      assert.equal(error.code, status, error.message);
      assert.match(error.message, pattern);
      return true;
    });

  it('accepts the documented ALTER forms, with backslash escapes, raw, triple-quoted and adjacent literals', async () => {
    await client.query({ query: "ALTER SCHEMA `emu-proj`.ds SET OPTIONS (description = 'it\\'s', labels = [('k', 'v'), STRUCT('b', '')])", location: 'US' });
    assert.equal(emulator.engine.dataset(PROJECT, 'ds').resource.description, "it's");
    assert.deepEqual(emulator.engine.dataset(PROJECT, 'ds').resource.labels, { k: 'v', b: '' }, 'labels = [...] replaces the whole set');
    await client.query({ query: "ALTER TABLE `emu-proj.ds.t0` SET OPTIONS (description = r'raw \\n' '''+triple\nline''' \"x\")", location: 'US' });
    assert.equal(emulator.engine.table(PROJECT, 'ds', 't0').description, 'raw \\n+triple\nlinex');
    await client.query({ query: 'ALTER TABLE ds.t0 ALTER COLUMN a SET OPTIONS (description = "A"), ALTER COLUMN IF EXISTS nope SET OPTIONS (description = NULL)', location: 'US' });
    assert.equal(emulator.engine.table(PROJECT, 'ds', 't0').schema.fields[0]?.description, 'A');
    await client.query({ query: "ALTER VIEW ds.v ALTER COLUMN a SET OPTIONS (description = 'VA') -- a comment", location: 'US' });
    await client.query({ query: 'ALTER TABLE IF EXISTS ds.missing SET OPTIONS (description = NULL)', location: 'US' });
  });

  it("rejects '' inside a literal, bad escapes, unclosed strings, nested field paths in ALTER COLUMN, ALTER TABLE on a view, bad labels and unknown options", async () => {
    await rejects("ALTER SCHEMA ds SET OPTIONS (description = 'it''s')", /concatenated string literals must be separated by whitespace or comments at \[1:\d+\]/);
    await rejects("ALTER SCHEMA ds SET OPTIONS (description = 'bad \\q')", /Illegal escape sequence/);
    await rejects("ALTER SCHEMA ds SET OPTIONS (description = 'line\nbreak')", /Unclosed string literal/);
    await rejects("ALTER TABLE ds.t1 ALTER COLUMN r.x SET OPTIONS (description = 'no')", /Syntax error/);
    await rejects("ALTER TABLE ds.v SET OPTIONS (description = 'no')", /is not a table/);
    await rejects("ALTER SCHEMA ds SET OPTIONS (labels = [('Env', 'x')])", /Invalid label key: Env/);
    await rejects("ALTER SCHEMA ds SET OPTIONS (labels = [('k', 'Upper')])", /Invalid label value/);
    await rejects("ALTER SCHEMA ds SET OPTIONS (colour = 'x')", /Unknown option: colour/);
    await rejects(`ALTER TABLE ds.t1 ALTER COLUMN a SET OPTIONS (description = '${'x'.repeat(1025)}')`, /longer than 1024/);
    await rejects("ALTER SCHEMA nope SET OPTIONS (description = 'x')", /Not found: Dataset emu-proj:nope/, 404);
    await rejects('SELECT * FROM `region-eu`.INFORMATION_SCHEMA.SCHEMATA', /not found in location US/, 404);
  });

  it('evaluates INFORMATION_SCHEMA SELECTs over its state, region by region, paged by getQueryResults', async () => {
    const [rows] = await client.query({ query: "SELECT TABLE_NAME, field_path FROM `emu-proj`.`region-us`.INFORMATION_SCHEMA.COLUMN_FIELD_PATHS WHERE table_schema = 'ds' AND table_name IN ('t1', 't2') ORDER BY table_name, field_path", location: 'US' });
    // Column names are case-insensitive; the views name them in lower case.
    assert.deepEqual(rows, [
      { table_name: 't1', field_path: 'a' },
      { table_name: 't1', field_path: 'r' },
      { table_name: 't1', field_path: 'r.x' },
      { table_name: 't2', field_path: 'a' },
      { table_name: 't2', field_path: 'r' },
      { table_name: 't2', field_path: 'r.x' },
    ]);
    assert.ok(emulator.requests.some((line) => /GET \/bigquery\/v2\/projects\/emu-proj\/queries\/job_\w+\?.*location=US.*pageToken=3/.test(line)), 'the second page through getQueryResults');
    const [schemata] = await client.query({ query: 'SELECT schema_name FROM `region-us`.INFORMATION_SCHEMA.SCHEMATA', location: 'US' });
    assert.deepEqual(schemata, [{ schema_name: 'ds' }]);
    const [options] = await client.query({ query: "SELECT option_value FROM ds.INFORMATION_SCHEMA.SCHEMATA_OPTIONS WHERE option_name = 'labels'", location: 'US' });
    assert.match(String((options[0] as { option_value: string }).option_value), /^\[STRUCT\("k", "v"\), STRUCT\("b", ""\)\]$/);
  });

  it('refuses a sixth metadata update of one table within 10 seconds (rateLimitExceeded), DDL and patch alike', async () => {
    const t2 = emulator.engine.table(PROJECT, 'ds', 't2');
    for (let i = 0; i < 4; i++) emulator.run(`ALTER TABLE ds.t2 SET OPTIONS (description = 'u${i}')`);
    await client.dataset('ds').table('t2').setMetadata({ description: 'fifth, by patch' });
    assert.throws(() => emulator.run("ALTER TABLE ds.t2 ALTER COLUMN a SET OPTIONS (description = 'sixth')"), (error: Error & { reason?: string; status?: number }) => {
      assert.match(error.message, /Exceeded rate limits: too many table update operations for this table/);
      return (error as { status?: number }).status === 403;
    });
    assert.equal(emulator.engine.table(PROJECT, 'ds', 't2').description, 'fifth, by patch');
    assert.equal(t2.schema.fields[0]?.description, undefined);
  });

  it('answers jobComplete: false, and the client polls getQueryResults for the rows', async () => {
    emulator.incompleteNext = 1;
    const before = emulator.requests.length;
    const [rows] = await client.query({ query: 'SELECT schema_name FROM `region-us`.INFORMATION_SCHEMA.SCHEMATA', location: 'US' });
    assert.deepEqual(rows, [{ schema_name: 'ds' }]);
    const lines = emulator.requests.slice(before);
    assert.match(lines[0] ?? '', /^POST \/bigquery\/v2\/projects\/emu-proj\/queries/);
    assert.match(lines[1] ?? '', /^GET \/bigquery\/v2\/projects\/emu-proj\/queries\/job_\w+\?.*location=US/);
  });

  it('runs jobs.insert (createQueryJob) too, with jobReference and location', async () => {
    const [job] = await client.createQueryJob({ query: 'SELECT table_name FROM `region-us`.INFORMATION_SCHEMA.TABLES ORDER BY table_name', location: 'US' });
    const [rows] = await job.getQueryResults();
    assert.equal(rows.length, 5);
    assert.equal(job.location, 'US');
  });

  it('datasets and tables: list (paged projections without descriptions), get and patch with etags; a stale If-Match is 412 conditionNotMet', async () => {
    const [tables] = await client.dataset('ds').getTables();
    assert.equal(tables.length, 5, 'the client follows nextPageToken');
    const [metadata] = await client.dataset('ds').table('t3').getMetadata();
    const etag = (metadata as { etag: string }).etag;
    await client.dataset('ds').table('t3').setMetadata({ description: 'first', etag });
    await assert.rejects(client.dataset('ds').table('t3').setMetadata({ description: 'second', etag }), (error: Error & { code?: number; errors?: { reason?: string }[] }) => {
      assert.equal(error.code, 412);
      assert.equal(error.errors?.[0]?.reason, 'conditionNotMet');
      return true;
    });
    assert.equal(emulator.engine.table(PROJECT, 'ds', 't3').description, 'first');
    await assert.rejects(client.dataset('ds').setMetadata({ labels: { Bad: 'x' } }), /Invalid label key: Bad/);
    await client.dataset('ds').setMetadata({ labels: { k: null, added: 'y' } });
    assert.deepEqual(emulator.engine.dataset(PROJECT, 'ds').resource.labels, { b: '', added: 'y' }, 'PATCH merges labels; null removes one');
    // A schema patch may change descriptions only; dropping a field or changing a type is refused.
    await assert.rejects(client.dataset('ds').table('t3').setMetadata({ schema: { fields: [{ name: 'a', type: 'STRING' }] } }), /does not match/);
  });

  it('models the caller: no token is 401; a metadata viewer reads INFORMATION_SCHEMA but cannot ALTER; without jobUser nothing runs', async () => {
    await assert.rejects(clientFor('unknown').query({ query: 'SELECT schema_name FROM `region-us`.INFORMATION_SCHEMA.SCHEMATA', location: 'US' }), (error: Error & { code?: number }) => error.code === 401);
    emulator.principals.set('viewer', { email: 'v@x', roles: ['roles/bigquery.metadataViewer', 'roles/bigquery.jobUser'] });
    emulator.principals.set('nojobs', { email: 'n@x', roles: ['roles/bigquery.dataOwner'] });
    const viewer = clientFor('viewer');
    const [rows] = await viewer.query({ query: 'SELECT table_name FROM `region-us`.INFORMATION_SCHEMA.TABLES', location: 'US' });
    assert.equal(rows.length, 5);
    await assert.rejects(viewer.query({ query: "ALTER TABLE ds.t2 SET OPTIONS (description = 'x')", location: 'US' }), /Permission bigquery\.tables\.update denied/);
    await assert.rejects(viewer.dataset('ds').setMetadata({ description: 'x' }), /Permission bigquery\.datasets\.update denied/);
    await assert.rejects(clientFor('nojobs').query({ query: 'SELECT schema_name FROM `region-us`.INFORMATION_SCHEMA.SCHEMATA', location: 'US' }), /Permission bigquery\.jobs\.create denied/);
  });
});
