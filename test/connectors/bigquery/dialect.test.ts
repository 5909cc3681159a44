import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Change, CatalogSnapshot, LiveObject } from '../../../src/core/model.js';
import { newLiveObject } from '../../../src/core/model.js';
import { labelsOf, parseOptionValue, quoteBigQueryIdentifier, quoteBigQueryLiteral } from '../../../src/connectors/bigquery/literal.js';
import { renderBigQuery } from '../../../src/connectors/bigquery/dialect.js';
import { catalogQueries } from '../../../src/connectors/bigquery/catalog.js';
import { checkLabelKey, checkLabelValue } from '../../../src/connectors/bigquery/labels.js';
import { lexGoogleSql } from '../../emulators/bigquery/lexer.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS } from '../../support/strings.js';

const change = (path: string[], property: Change['property'], after: string | null, key?: string): Change => ({
  id: `bq.${path.join('.')}#${property}${key === undefined ? '' : `:${key}`}`,
  service: 'bq',
  address: `bq.${path.join('.')}`,
  path,
  level: (['database', 'schema', 'table', 'column'] as const)[path.length - 1] ?? 'column',
  property,
  ...(key === undefined ? {} : { key }),
  action: after === null ? 'remove' : 'add',
  before: null,
  after,
});

function snapshotWith(tables: Record<string, { type: string; tags?: Record<string, string> }>, datasetTags: Record<string, string> = {}): CatalogSnapshot {
  const project = newLiveObject('database', 'my-proj');
  const dataset: LiveObject = newLiveObject('schema', 'ds');
  dataset.tags = datasetTags;
  project.children.set('ds', dataset);
  for (const [name, { type, tags }] of Object.entries(tables)) {
    const table = newLiveObject('table', name);
    table.facts = { tableType: type };
    table.tags = tags ?? {};
    dataset.children.set(name, table);
  }
  return { service: 'bq', databases: new Map([['my-proj', project]]), server: {}, queries: 0 };
}

describe('BigQuery dialect', () => {
  it('quotes literals with backslash escapes only (never a doubled quote) and identifiers in backquotes', () => {
    assert.equal(quoteBigQueryLiteral("it's \\ \n"), "'it\\'s \\\\ \\n'");
    assert.equal(quoteBigQueryLiteral(null), 'NULL');
    assert.ok(!quoteBigQueryLiteral("a''b").includes("''"));
    assert.equal(quoteBigQueryIdentifier('my-proj'), '`my-proj`');
    assert.equal(quoteBigQueryIdentifier('a`b'), '`a\\`b`');
  });

  it('every hostile and generated string survives quoting, as the emulator’s independent lexer reads it', () => {
    for (const text of [...HOSTILE_DESCRIPTIONS, ...generatedStrings(200, 3)]) {
      const tokens = lexGoogleSql(quoteBigQueryLiteral(text));
      assert.deepEqual(tokens.map((token) => [token.kind, token.value]), [['string', text], ['end', '']]);
      assert.equal(parseOptionValue(quoteBigQueryLiteral(text)), text);
    }
  });

  it('reads option_value literals: descriptions in any quoting, labels as an ARRAY of STRUCTs, NULL', () => {
    assert.equal(parseOptionValue('"All orders \\"v2\\"\\n"'), 'All orders "v2"\n');
    assert.equal(parseOptionValue("'''multi\nline'''"), 'multi\nline');
    assert.equal(parseOptionValue("r'raw \\d'"), 'raw \\d');
    assert.equal(parseOptionValue('"\\u00e9\\U0001F680\\x41\\101"'), 'é🚀AA');
    assert.deepEqual(labelsOf(parseOptionValue('[STRUCT("owner", "team-a"), STRUCT("empty", "")]')), { owner: 'team-a', empty: '' });
    assert.deepEqual(labelsOf(parseOptionValue("ARRAY<STRUCT<STRING, STRING>>[('k', 'v')]")), { k: 'v' });
    assert.deepEqual(labelsOf(parseOptionValue('[]')), {});
    assert.equal(parseOptionValue('NULL'), null);
    assert.throws(() => parseOptionValue('"unterminated'), /unterminated string/);
    assert.throws(() => parseOptionValue('"bad \\q escape"'), /illegal escape/);
  });

  it('groups one object’s description and labels into one SET OPTIONS that lists every label kept', () => {
    const snapshot = snapshotWith({ t: { type: 'BASE TABLE', tags: { keep: 'me', old: 'x' } } }, { a: '1' });
    const rendered = renderBigQuery(
      [
        change(['my-proj', 'ds'], 'description', "it's"),
        change(['my-proj', 'ds'], 'tag', null, 'a'),
        change(['my-proj', 'ds', 't'], 'description', null),
        change(['my-proj', 'ds', 't'], 'tag', 'v', 'new'),
        change(['my-proj', 'ds', 't'], 'tag', null, 'old'),
      ],
      snapshot,
      { project: 'my-proj' },
    );
    assert.deepEqual(rendered.skipped, []);
    assert.deepEqual(
      rendered.operations.map((operation) => [operation.id, operation.statements, operation.changeIds.length]),
      [
        ['bq.my-proj.ds#options', ["ALTER SCHEMA `my-proj`.`ds` SET OPTIONS (description = 'it\\'s', labels = NULL)"], 2],
        ['bq.my-proj.ds.t#options', ["ALTER TABLE `my-proj`.`ds`.`t` SET OPTIONS (description = NULL, labels = [('keep', 'me'), ('new', 'v')])"], 3],
      ],
    );
  });

  it('renders a table’s columns as one ALTER with several ALTER COLUMN clauses; views with ALTER VIEW; nested fields as one tables.patch; skips what BigQuery has no statement for', () => {
    const snapshot = snapshotWith({ t: { type: 'BASE TABLE' }, v: { type: 'VIEW' }, n: { type: 'BASE TABLE' }, mv: { type: 'MATERIALIZED VIEW' } });
    const rendered = renderBigQuery(
      [
        change(['my-proj', 'ds', 't', 'a'], 'description', 'A'),
        change(['my-proj', 'ds', 't', 'b'], 'description', null),
        change(['my-proj', 'ds', 'v', 'a'], 'description', 'VA'),
        change(['my-proj', 'ds', 'n', 'top'], 'description', 'T'),
        change(['my-proj', 'ds', 'n', 'rec.inner'], 'description', 'I'),
        change(['my-proj', 'ds', 'mv', 'a'], 'description', 'M'),
        change(['my-proj', 'ds', 't', 'a'], 'tag', 'x', 'k'),
        change(['my-proj', 'ds', 't'], 'owner', 'jane'),
        change(['my-proj'], 'description', 'project'),
        change(['my-proj', 'ds', 't', 'long'], 'description', 'é'.repeat(1025)),
      ],
      snapshot,
      { project: 'my-proj' },
    );
    assert.deepEqual(
      rendered.operations.map((operation) => operation.statements),
      [
        ["ALTER TABLE `my-proj`.`ds`.`t` ALTER COLUMN `a` SET OPTIONS (description = 'A'), ALTER COLUMN `b` SET OPTIONS (description = NULL)"],
        ["ALTER VIEW `my-proj`.`ds`.`v` ALTER COLUMN `a` SET OPTIONS (description = 'VA')"],
        ['tables.patch {"projectId":"my-proj","datasetId":"ds","tableId":"n","fields":{"top":"T","rec.inner":"I"}}'],
      ],
    );
    assert.deepEqual(
      rendered.skipped.map((skipped) => skipped.reason),
      [
        'BigQuery columns have no labels (policy tags are access control)',
        'BigQuery has no object owner (dataset access entries are permissions, managed through IAM)',
        'a BigQuery project has no description or labels that metaform manages',
        'BigQuery column descriptions are at most 1024 characters; this one has 1025',
        'BigQuery has no statement that sets a materialized view column description',
      ],
    );
  });

  it('reads a project and region in five queries, with the datasets the YAML names', () => {
    const queries = catalogQueries('my-proj', 'EU', ['sales', "it's"]);
    assert.equal(queries.length, 5);
    assert.match(queries[0] ?? '', /^SELECT schema_name FROM `my-proj`\.`region-eu`\.INFORMATION_SCHEMA\.SCHEMATA WHERE schema_name IN \('sales', 'it\\'s'\)$/);
    assert.match(queries[4] ?? '', /COLUMN_FIELD_PATHS WHERE table_schema IN/);
    assert.doesNotMatch(catalogQueries('p', 'US', undefined).join('\n'), / IN \('sales/);
  });

  it('checks label keys and values by BigQuery’s rules, proposing the spelling it would accept', () => {
    assert.equal(checkLabelKey('cost-center_1'), 'cost-center_1');
    assert.equal(checkLabelKey('équipe'), 'équipe');
    assert.deepEqual(checkLabelKey('Env'), { error: 'label key "Env" is not a valid BigQuery label key (BigQuery labels are lower-case letters, digits, _ and -, at most 63 characters; keys start with a letter)', hint: 'write it as env', canonical: 'env' });
    assert.equal((checkLabelKey('_x') as { hint: string }).hint, 'write it as k_x');
    assert.equal((checkLabelKey('k'.repeat(64)) as { hint: string }).hint, `write it as ${'k'.repeat(63)}`);
    assert.equal(checkLabelValue('k', ''), undefined);
    assert.equal(checkLabelValue('k', 'données-2'), undefined);
    assert.equal(checkLabelValue('k', 'a.b/C')?.hint, 'write it as a_b_c');
  });
});
