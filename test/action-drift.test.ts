import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readMarker } from '../src/action/marker.js';
import { runAction } from './support/action.js';
import { GitHubEmulator } from './emulators/github/server.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

describe('action: drift issues on a schedule', () => {
  let db: TestPostgres;
  let project: TempProject;
  let github: GitHubEmulator;

  before(async () => {
    db = await startPglite();
    await db.query(`CREATE SCHEMA shop; CREATE TABLE shop.items (id int); CREATE SCHEMA crm; CREATE TABLE crm.people (id int);`);
    await db.query(`COMMENT ON TABLE crm.people IS 'People'`);
    github = await new GitHubEmulator('acme/warehouse').start();
    github.grant('ghs_write', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'write', pull_requests: 'write' } });
    github.grant('ghs_read', { login: 'github-actions[bot]', kind: 'installation', permissions: { issues: 'read', pull_requests: 'read' } });
    const connection = { host: db.connection.host, port: db.connection.port, user: 'postgres', database: 'postgres' };
    project = await tempProject(
      { version: 1, services: { shop: { type: 'postgres', connection }, crm: { type: 'postgres', connection } } },
      {
        'metadata/shop.yaml': { service: 'shop', database: 'postgres', schemas: { shop: { tables: { items: { description: 'Items' } } } } },
        'metadata/crm.yaml': { service: 'crm', database: 'postgres', schemas: { crm: { tables: { people: { description: 'People' } } } } },
      },
    );
  });
  after(async () => {
    await github.stop();
    await project.remove();
    await db.close();
  });

  const drift = (token = 'ghs_write') =>
    runAction({
      inputs: { command: 'drift', 'github-token': token },
      event: { name: 'schedule', payload: { schedule: '0 6 * * *' } },
      repository: 'acme/warehouse',
      sha: 'c'.repeat(40),
      apiUrl: github.url,
      workspace: project.dir,
    });
  const driftIssues = () => [...github.issues.values()].filter((issue) => readMarker('drift', issue.body));

  it('opens one labelled issue per drifting service, updates it, closes it when drift clears and reopens it when drift returns', async () => {
    // Another project's drift issue with the same label is left alone.
    github.addIssue({ title: 'metaform drift: shop (other)', body: '<!-- metaform:drift {"project":"other","service":"shop"} -->\n', labels: ['metaform-drift'] });

    const first = await drift();
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.equal(first.outputs['has-changes'], 'true');
    assert.equal(first.outputs['drifted-services'], 'shop');
    const opened = driftIssues().filter((issue) => readMarker('drift', issue.body)?.project === '.');
    assert.equal(opened.length, 1, 'crm has no drift: no issue');
    const issue = opened[0]!;
    assert.equal(issue.title, 'metaform drift: shop');
    assert.deepEqual(issue.labels, ['metaform-drift']);
    assert.equal(issue.state, 'open');
    assert.match(issue.body, /\+ description: "Items"/);
    assert.match(first.summary, /metaform drift/);

    // Drift goes on, differently: the same issue is updated.
    await project.write('metadata/shop.yaml', { service: 'shop', database: 'postgres', schemas: { shop: { tables: { items: { description: 'Items for sale' } } } } });
    assert.equal((await drift()).code, 0);
    assert.equal(driftIssues().length, 2);
    assert.match(github.issues.get(issue.number)!.body, /\+ description: "Items for sale"/);

    // Cleared: closed, with a comment.
    await db.query(`COMMENT ON TABLE shop.items IS 'Items for sale'`);
    const clear = await drift();
    assert.equal(clear.outputs['has-changes'], 'false');
    assert.equal(github.issues.get(issue.number)!.state, 'closed');
    assert.match(github.commentsOn(issue.number).at(-1)?.body ?? '', /No drift at commit `c{12}`.*Closing/);
    assert.equal((await drift()).code, 0);
    assert.equal(github.commentsOn(issue.number).length, 1, 'a closed issue with no drift is left alone');

    // Back: the same issue is reopened, with a comment.
    await db.query(`COMMENT ON TABLE shop.items IS 'Changed by hand'`);
    assert.equal((await drift()).code, 0);
    assert.equal(github.issues.get(issue.number)!.state, 'open');
    assert.match(github.issues.get(issue.number)!.body, /- description: "Changed by hand"\n\+ description: "Items for sale"/);
    assert.match(github.commentsOn(issue.number).at(-1)?.body ?? '', /Drift is back/);
    assert.equal(driftIssues().length, 2, 'no second issue');
    const other = driftIssues().find((each) => readMarker('drift', each.body)?.project === 'other')!;
    assert.equal(other.state, 'open');
    assert.equal(github.commentsOn(other.number).length, 0);
  });

  it('counts an object named in YAML that the source lacks as drift', async () => {
    await project.write('metadata/crm.yaml', { service: 'crm', database: 'postgres', schemas: { crm: { tables: { people: { description: 'People' }, gone: { description: 'Dropped' } } } } });
    const run = await drift();
    assert.equal(run.code, 0, run.stdout);
    const crm = driftIssues().find((issue) => readMarker('drift', issue.body)?.service === 'crm');
    assert.ok(crm);
    assert.match(crm.body, /table `crm\.postgres\.crm\.gone` \(metadata\/crm\.yaml:\d+\)/);
  });

  it('fails with permission-denied naming issues: write', async () => {
    await project.write('metadata/crm.yaml', { service: 'crm', database: 'postgres', schemas: { crm: { tables: { people: { description: 'Persons' } } } } });
    const run = await drift('ghs_read');
    assert.equal(run.outputs['failure-reason'], 'permission-denied');
    assert.match(run.stdout, /issues: write/);
  });
});
