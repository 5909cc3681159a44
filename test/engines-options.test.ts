import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadProject } from '../src/core/project.js';
import { tempProject } from './support/project.js';

/** Loads a project whose only service has these options; returns the validation error text, or '' when valid. */
async function optionsError(type: string, options: unknown): Promise<string> {
  const dir = await tempProject(
    { version: 1, services: { svc: { type, connection: { host: '127.0.0.1' }, options } } },
    { 'metadata/svc.yaml': { service: 'svc', database: 'default', schemas: { s: { tables: { t: 'x' } } } } },
  );
  try {
    return await loadProject(dir.dir).then(
      () => '',
      (error: unknown) => String(error),
    );
  } finally {
    await dir.remove();
  }
}

describe('connector options are validated against each connector’s schema', () => {
  it('ClickHouse: cluster must be a name; a misspelt key is located, with a did-you-mean', async () => {
    assert.equal(await optionsError('clickhouse', { cluster: 'main' }), '');
    assert.match(await optionsError('clickhouse', { cluster: 2024 }), /metaform\.yaml:\d+:\d+: services\.svc\.options\.cluster must be (a )?string/);
    assert.match(await optionsError('clickhouse', { cluster: true }), /metaform\.yaml:\d+:\d+: services\.svc\.options\.cluster must be (a )?string/);
    const misspelt = await optionsError('clickhouse', { clustr: 'main' });
    assert.match(misspelt, /metaform\.yaml:\d+:\d+: unknown key "clustr" in services\.svc\.options/);
    assert.match(misspelt, /did you mean "cluster"\?/);
  });

  it('a connector without options accepts none, and says so', async () => {
    assert.equal(await optionsError('mysql', {}), '');
    assert.match(await optionsError('mysql', { cluster: 'main' }), /metaform\.yaml:\d+:\d+: unknown key "cluster" in services\.svc\.options: MySQL\/MariaDB \(mysql\) takes no options/);
    assert.match(await optionsError('postgres', { foo: 1 }), /unknown key "foo" in services\.svc\.options: PostgreSQL \(postgres\) takes no options/);
  });
});
