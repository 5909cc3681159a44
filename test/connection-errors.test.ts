import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createPlan } from '../src/core/pipeline.js';
import { loadProject } from '../src/core/project.js';
import { tempProject } from './support/project.js';

const SECRET = 'hunter2-secret';

/** Plans against a port nothing listens on; returns the error message. */
async function failedPlan(service: object, schemas: object): Promise<string> {
  const dir = await tempProject({ version: 1, services: { svc: service } }, { 'metadata/svc.yaml': { service: 'svc', database: 'default', schemas } });
  try {
    const project = await loadProject(dir.dir);
    const error = await createPlan(project).then(
      () => assert.fail('the plan should not connect'),
      (caught: unknown) => caught as Error,
    );
    return error.message;
  } finally {
    await dir.remove();
  }
}

describe('connection failures on the two-level engines', () => {
  it('MySQL: names the service, host and user, never the password', async () => {
    const message = await failedPlan({ type: 'mysql', connection: { host: '127.0.0.1', port: 1, user: 'metaform', password: SECRET } }, { shop: { tables: { orders: 'x' } } });
    assert.match(message, /^service svc: cannot connect to MySQL\/MariaDB at 127\.0\.0\.1:1 as metaform: .*ECONNREFUSED/);
    assert.doesNotMatch(message, new RegExp(SECRET));
  });

  it('ClickHouse: names the service and URL without the credentials in it', async () => {
    const message = await failedPlan(
      { type: 'clickhouse', connection: { url: `http://metaform:${SECRET}@127.0.0.1:1`, request_timeout: 2000 } },
      { events: { tables: { clicks: 'x' } } },
    );
    assert.match(message, /^service svc: cannot connect to ClickHouse at http:\/\/127\.0\.0\.1:1 as metaform: .*ECONNREFUSED/);
    assert.doesNotMatch(message, new RegExp(SECRET));
  });
});
