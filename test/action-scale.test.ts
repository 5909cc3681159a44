import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunContext } from '../src/action/context.js';
import { readMarker } from '../src/action/marker.js';
import { planComment } from '../src/action/plan.js';
import { buildReport, SUMMARY_BUDGET, utf8Bytes } from '../src/action/report.js';
import { planHash } from '../src/core/plan-hash.js';
import type { Plan, PlannedChange } from '../src/core/plan.js';
import { runAction } from './support/action.js';
import { BODY_LIMIT, GitHubEmulator } from './emulators/github/server.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

const COLUMNS = ['a', 'b', 'c', 'd'];

/** Object blocks of the comment's diff: address -> number of change lines (an update counts once). */
function shownChanges(body: string): Map<string, number> {
  const shown = new Map<string, number>();
  let address: string | undefined;
  let pendingUpdate = false;
  for (const line of body.split('\n')) {
    const header = /^# (.+) \((?:database|schema|table|column)\)$/.exec(line);
    if (header) {
      address = header[1];
      shown.set(address ?? '', 0);
      continue;
    }
    if (address === undefined || !/^[-+!] /.test(line)) continue;
    // An update is a - line then a + line of the same property.
    if (line.startsWith('+ ') && pendingUpdate) {
      pendingUpdate = false;
      continue;
    }
    pendingUpdate = line.startsWith('- ');
    shown.set(address, (shown.get(address) ?? 0) + 1);
  }
  return shown;
}

function codePoints(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

describe('action: plans of 5,000 and 200,000 changes', () => {
  let db: TestPostgres;
  let project: TempProject;
  let github: GitHubEmulator;
  const TABLES = 1_000;

  before(async () => {
    db = await startPglite();
    const ddl = ['CREATE SCHEMA big;'];
    for (let i = 0; i < TABLES; i++) ddl.push(`CREATE TABLE big.t${i} (${COLUMNS.map((column) => `${column} int`).join(', ')});`);
    await db.query(ddl.join('\n'));
    github = await new GitHubEmulator('acme/warehouse').start();
    github.grant('ghs_write', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
    const tables: Record<string, object> = {};
    for (let i = 0; i < TABLES; i++) {
      const columns: Record<string, string> = {};
      for (const column of COLUMNS) columns[column] = `Column ${column} of table ${i}: ${'a long enough description '.repeat(4)}`;
      tables[`t${i}`] = { description: `Table ${i} ${'with a description that takes room '.repeat(5)}`, columns };
    }
    project = await tempProject(
      { version: 1, services: { big: { type: 'postgres', connection: { host: db.connection.host, port: db.connection.port, user: 'postgres', database: 'postgres' } } } },
      { 'metadata/big.yaml': { service: 'big', database: 'postgres', schemas: { big: { tables } } } },
    );
  });
  after(async () => {
    await github.stop();
    await project.remove();
    await db.close();
  });

  it('posts a 5,000-change plan cut at an object boundary under 65,536 characters, with the full plan in the summary and the plan file', async () => {
    const pr = github.addPullRequest({});
    const run = await runAction({
      inputs: { command: 'plan', 'github-token': 'ghs_write' },
      event: { name: 'pull_request', payload: { number: pr.number, pull_request: { number: pr.number } } },
      repository: 'acme/warehouse',
      sha: 'b'.repeat(40),
      apiUrl: github.url,
      workspace: project.dir,
    });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.outputs['add-count'], '5000');
    const plan = JSON.parse(run.outputs['plan-json'] ?? '{}') as Plan;
    assert.equal(plan.changes.length, 5000, 'the plan file has every change');

    const [comment] = github.commentsOn(pr.number);
    assert.ok(comment);
    assert.ok(codePoints(comment.body) <= BODY_LIMIT);
    assert.equal(readMarker('plan', comment.body)?.truncated, true);
    assert.equal(readMarker('plan', comment.body)?.hash, run.outputs['plan-hash']);
    assert.match(comment.body, /\| big \| table \| 1000 \| 0 \| 0 \| 0 \|\n\| big \| column \| 4000 \| 0 \| 0 \| 0 \|/);
    const note = /✂️ \*\*Truncated:\*\* showing (\d+) changes on (\d+) objects; (\d+) more changes not shown.*job summary\]\(https:\/\/github\.example\/acme\/warehouse\/actions\/runs\/4242\).*plan-path/.exec(comment.body);
    assert.ok(note, comment.body.slice(-600));
    assert.equal(Number(note[1]) + Number(note[3]), 5000);
    const shown = shownChanges(comment.body);
    assert.equal(shown.size, Number(note[2]));
    assert.equal([...shown.values()].reduce((a, b) => a + b, 0), Number(note[1]));
    // Every object shown is shown whole: its changes in the plan are all there.
    const perObject = new Map<string, number>();
    for (const change of plan.changes) perObject.set(change.address, (perObject.get(change.address) ?? 0) + 1);
    for (const [address, count] of shown) assert.equal(count, perObject.get(address), address);

    assert.ok(utf8Bytes(run.summary) <= SUMMARY_BUDGET, `summary of ${utf8Bytes(run.summary)} bytes`);
    assert.ok(run.summary.length > comment.body.length * 5, 'the summary shows much more than the comment');
    assert.match(run.summary, /Truncated:.*plan file/);
  });

  it('builds the comment of a 200,000-change plan within the limit, rendering only what fits', () => {
    const changes: PlannedChange[] = [];
    const operations: Plan['operations'] = [];
    const long = 'a very long description '.repeat(500);
    for (let i = 0; i < 50_000; i++) {
      const table = `w.db.s.t${i}`;
      const tableId = `${table}#description`;
      changes.push({ id: tableId, service: 'w', address: table, path: ['db', 's', `t${i}`], level: 'table', property: 'description', action: i % 3 === 0 ? 'update' : 'add', before: i % 3 === 0 ? 'old' : null, after: i % 10 === 0 ? long : `T${i}`, operation: tableId });
      operations.push({ id: tableId, service: 'w', database: 'db', changeIds: [tableId], statements: [`COMMENT ON TABLE "s"."t${i}" IS 'T${i}'`] });
      for (const column of ['a', 'b', 'c']) {
        const id = `${table}.${column}#description`;
        const skipped = i % 7 === 0 ? { skipped: 'no privilege on the table' } : {};
        changes.push({ id, service: 'w', address: `${table}.${column}`, path: ['db', 's', `t${i}`, column], level: 'column', property: 'description', action: 'remove', before: `C${column}`, after: null, ...skipped, ...(skipped.skipped ? {} : { operation: id }) });
        if (!skipped.skipped) operations.push({ id, service: 'w', database: 'db', changeIds: [id], statements: [`COMMENT ON COLUMN "s"."t${i}"."${column}" IS NULL`] });
      }
    }
    const summary = { add: 0, update: 0, remove: 0, skipped: 0 };
    for (const change of changes) {
      if (change.skipped) summary.skipped++;
      else summary[change.action]++;
    }
    const plan: Plan = { formatVersion: 3, createdAt: new Date().toISOString(), server: {}, changes, operations, warnings: [], summary };
    assert.equal(plan.changes.length, 200_000);
    const run = { project: '.', target: '*', runUrl: 'https://github.example/acme/warehouse/actions/runs/1' } as RunContext;
    const hash = planHash(plan);
    const comment = planComment(run, plan, hash);
    assert.ok(codePoints(comment.body) <= BODY_LIMIT, `${comment.body.length} characters`);
    assert.equal(comment.truncated, true);
    const marker = readMarker('plan', comment.body);
    assert.equal(marker?.hash, hash);
    assert.equal(marker?.digests, undefined, 'no per-change digests for a plan this size');
    assert.match(comment.body, /\| w \| column \| 0 \| 0 \| 128571 \| 21429 \|/);
    assert.match(comment.body, /21429 × no privilege on the table/);
    assert.match(comment.body, new RegExp(`showing ${comment.shownChanges} changes on \\d+ objects; ${200_000 - comment.shownChanges} more changes not shown`));
    assert.match(comment.body, /\(\+\d+ characters\)/, 'a long description is shown cut');

    const summaryReport = buildReport(plan, { kind: 'plan', head: '### metaform plan', budget: SUMMARY_BUDGET, measure: utf8Bytes, fullPlanAt: 'the plan file' });
    assert.ok(utf8Bytes(summaryReport.body) <= SUMMARY_BUDGET);
    assert.ok(summaryReport.shownChanges > comment.shownChanges);
  });
});

describe('action: what a reviewer reads', () => {
  it('shows control and bidi characters escaped in values, reasons, statements and warnings, as the other reports do', () => {
    const hostile = 'Order id \u001b[2J then \u202egnp.exe\u202c';
    const id = 'w.db.s.t#description';
    const plan: Plan = {
      formatVersion: 3,
      createdAt: new Date().toISOString(),
      server: {},
      changes: [{ id, service: 'w', address: 'w.db.s.t', path: ['db', 's', 't'], level: 'table', property: 'description', action: 'add', before: null, after: hostile, operation: id }],
      operations: [{ id, service: 'w', database: 'db', changeIds: [id], statements: [`COMMENT ON TABLE "s"."t" IS '${hostile}'`] }],
      warnings: [`a warning with \u202e in it`],
      summary: { add: 1, update: 0, remove: 0, skipped: 0 },
    };
    const { body } = buildReport(plan, { kind: 'plan', head: '### metaform plan', budget: SUMMARY_BUDGET });
    // eslint-disable-next-line no-control-regex -- the raw control a description could carry
    assert.doesNotMatch(body, /[\u001b\u202a-\u202e]/);
    assert.match(body, /\+ description: "Order id \\u001b\[2J then \\u202egnp\.exe\\u202c"/);
    assert.match(body, /IS 'Order id \\u001b\[2J then \\u202egnp\.exe\\u202c';/);
    assert.match(body, /a warning with \\u202e in it/);
  });
});
