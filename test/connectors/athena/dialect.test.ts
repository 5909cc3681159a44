import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change, LiveObject } from '../../../src/core/model.js';
import { ICEBERG_SKIP, VIEW_SKIP, quoteAthenaIdentifier, quoteAthenaLiteral, renderAthena } from '../../../src/connectors/athena/dialect.js';
import { isTransientAthenaError, isUnreachableAthenaError } from '../../../src/connectors/athena/client.js';

const change = (path: string[], after: string | null): Change => ({
  id: `${path.join('.')}#description`,
  service: 'lake',
  address: `lake.${path.join('.')}`,
  path,
  level: 'table',
  property: 'description',
  action: after === null ? 'remove' : 'add',
  before: after === null ? 'x' : null,
  after,
});

function snapshotWith(tables: Record<string, Record<string, string>>) {
  const schema: LiveObject = { level: 'schema', name: 's', children: new Map() };
  for (const [name, facts] of Object.entries(tables)) schema.children.set(name, { level: 'table', name, facts, children: new Map() });
  return { service: 'lake', databases: new Map([['awsdatacatalog', { level: 'database' as const, name: 'awsdatacatalog', children: new Map([['s', schema]]) }]]), server: {}, queries: 0 };
}

describe('Athena dialect', () => {
  it('quotes identifiers in backquotes and literals with backslash escapes, never a doubled quote', () => {
    assert.equal(quoteAthenaIdentifier('odd`name'), '`odd``name`');
    assert.equal(quoteAthenaLiteral("it's \\ 'x'"), "'it\\'s \\\\ \\'x\\''");
    assert.equal(quoteAthenaLiteral('a\nb\r\nc\td'), "'a\\nb\\r\\nc\td'");
    assert.equal(quoteAthenaLiteral(null), "''");
    assert.ok(!quoteAthenaLiteral("a'b").includes("''"));
  });

  it('renders a table description as SET TBLPROPERTIES and skips views and Iceberg tables with the reason', () => {
    const snapshot = snapshotWith({ t: { tableType: 'EXTERNAL_TABLE', format: '' }, v: { tableType: 'VIRTUAL_VIEW', format: '' }, i: { tableType: 'EXTERNAL_TABLE', format: 'ICEBERG' } });
    const rendered = renderAthena([change(['awsdatacatalog', 's', 't'], "it's"), change(['awsdatacatalog', 's', 't'], null), change(['awsdatacatalog', 's', 'v'], 'x'), change(['awsdatacatalog', 's', 'i'], 'x')], snapshot);
    assert.deepEqual(
      rendered.operations.map((operation) => operation.statements),
      [["ALTER TABLE `s`.`t` SET TBLPROPERTIES ('comment' = 'it\\'s')"], ["ALTER TABLE `s`.`t` SET TBLPROPERTIES ('comment' = '')"]],
    );
    assert.deepEqual(
      rendered.skipped.map((skip) => skip.reason),
      [VIEW_SKIP, ICEBERG_SKIP],
    );
  });

  it('retries throttling, server faults and resets; calls a refused connection unreachable', () => {
    assert.ok(isTransientAthenaError({ name: 'TooManyRequestsException' }));
    assert.ok(isTransientAthenaError({ name: 'InternalServerException' }));
    assert.ok(isTransientAthenaError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })));
    assert.ok(!isTransientAthenaError({ name: 'InvalidRequestException' }));
    assert.ok(isUnreachableAthenaError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })));
  });
});
