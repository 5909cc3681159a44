import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tagFqnCandidates, tagKeyValue } from '../src/openmetadata/catalog.js';
import { buildFqn, catalogName, fqnSegment, sourceName, splitFqn } from '../src/openmetadata/fqn.js';
import { generatedStrings, HOSTILE_IDENTIFIERS } from './support/strings.js';

describe('OpenMetadata FQNs', () => {
  it('quotes a part with a dot or a quote and doubles inner quotes; a backslash is itself (FullyQualifiedName after PR #28697)', () => {
    assert.equal(buildFqn(['svc', 'db', 'sales.eu', 'orders']), 'svc.db."sales.eu".orders');
    assert.equal(buildFqn(['svc', 'say "hi"']), 'svc."say ""hi"""');
    assert.equal(buildFqn(['svc', 'a.b "c"']), 'svc."a.b ""c"""');
    assert.equal(buildFqn(['svc', 'back\\slash']), 'svc.back\\slash');
    assert.deepEqual(splitFqn('svc.back\\slash'), ['svc', 'back\\slash'], "a server's backslash is read as itself");
  });

  it('writes and reads the form of servers before PR #28697: a quote as \\" without surrounding quotes', () => {
    assert.equal(buildFqn(['svc', 'say "hi"'], 'backslash'), 'svc.say \\"hi\\"');
    assert.equal(buildFqn(['svc', 'sales.eu'], 'backslash'), 'svc."sales.eu"');
    assert.equal(buildFqn(['svc', 'back\\slash'], 'backslash'), 'svc.back\\slash');
    assert.deepEqual(splitFqn('svc.say \\"hi\\"'), ['svc', 'say "hi"']);
  });

  it('splits what it builds, for awkward and generated names', () => {
    const names = [...Object.values(HOSTILE_IDENTIFIERS), 'a::b', 'x > y', ' spaced ', '', '.', '"', '..', 'é🚀', ...generatedStrings(200)];
    for (const name of names) {
      const parts = ['svc', name, 'table.with.dots', name];
      assert.deepEqual(splitFqn(buildFqn(parts)), parts, JSON.stringify(name));
    }
  });

  it('reads the older doubled-quote form', () => {
    assert.deepEqual(splitFqn('svc."a ""b"".c"'), ['svc', 'a "b".c']);
  });

  it("reverts and applies the connectors' __reserved__ replacements", () => {
    assert.equal(catalogName('a::b>c"d'), 'a__reserved__colon__b__reserved__arrow__c__reserved__quote__d');
    assert.equal(sourceName('name__reserved__quote__with__reserved__quote__quotes'), 'name"with"quotes');
    for (const name of [...Object.values(HOSTILE_IDENTIFIERS), 'a::b', '>>', ...generatedStrings(100)]) assert.equal(sourceName(catalogName(name)), name);
  });

  it('encodes an FQN as one URL path segment: no +, / and % escaped', () => {
    assert.equal(fqnSegment('svc."a/b c".t%1'), 'svc.%22a%2Fb%20c%22.t%251');
  });

  it('maps classification -> key and the tag path below it -> value (nested tags are parts)', () => {
    assert.deepEqual(tagKeyValue('PII.Sensitive'), { key: 'PII', value: 'Sensitive' });
    assert.deepEqual(tagKeyValue('PII.Sensitive.Email'), { key: 'PII', value: 'Sensitive.Email' });
    assert.deepEqual(tagKeyValue('"Data.Class"."v1.2"'), { key: 'Data.Class', value: 'v1.2' });
    assert.deepEqual(tagFqnCandidates('PII', 'Sensitive.Email'), ['PII.Sensitive.Email', 'PII."Sensitive.Email"']);
    assert.deepEqual(tagFqnCandidates('Data.Class', 'v1'), ['"Data.Class".v1']);
  });
});

describe('catalog names matched through the engine folding', () => {
  it('finds objects by canonical name with one index per sibling map', async () => {
    const { connectorFor } = await import('../src/connectors/registry.js');
    const { newLiveObject, liveChild } = await import('../src/core/model.js');
    const { findByName } = await import('../src/openmetadata/source.js');
    const redshift = connectorFor('redshift');
    assert.ok(redshift?.canonicalName);
    const database = newLiveObject('database', 'dev');
    const schema = liveChild(database, 'schema', 'sales');
    for (let i = 0; i < 2000; i++) liveChild(schema, 'table', `t${i}`);
    const snapshot = { service: 'rs', databases: new Map([['dev', database]]), server: {}, queries: 0 };
    assert.equal(findByName(snapshot, ['DEV', 'Sales', 'T1999'], redshift)?.name, 't1999');
    assert.equal(findByName(snapshot, ['dev', 'sales', 'missing'], redshift), undefined);
  });
});
