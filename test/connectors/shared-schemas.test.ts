import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Parameters, schemaCondition, schemaScope, SYSTEM_SCHEMAS } from '../../src/connectors/shared/schemas.js';

const quote = (value: string) => `'${value.replaceAll("'", "''")}'`;

describe('the schema filter', () => {
  it('reads every schema but the system ones, the named ones, or none (an empty list is no schema, never an empty IN)', () => {
    assert.deepEqual(schemaScope(undefined), { read: 'every' });
    assert.deepEqual(schemaScope([]), { read: 'none' });
    assert.deepEqual(schemaScope(['a']), { read: 'named', names: ['a'] });
    assert.equal(schemaCondition('s', { read: 'named', names: ["o'dd", 'b'] }, SYSTEM_SCHEMAS.snowflake, quote), "s IN ('o''dd', 'b')");
    assert.equal(
      schemaCondition('n.nspname', { read: 'every' }, SYSTEM_SCHEMAS.postgres, quote),
      "n.nspname NOT IN ('pg_catalog', 'information_schema') AND left(n.nspname, 8) <> 'pg_toast' AND left(n.nspname, 8) <> 'pg_temp_'",
    );
  });

  it('writes parameters as placeholders, in order', () => {
    const dollar = new Parameters('dollar');
    assert.equal(schemaCondition('c', { read: 'named', names: ['a', 'b'] }, SYSTEM_SCHEMAS.mysql, dollar.add), 'c IN ($1, $2)');
    assert.deepEqual(dollar.values, ['a', 'b']);
    const question = new Parameters('question');
    assert.equal(schemaCondition('c', { read: 'every' }, SYSTEM_SCHEMAS.clickhouse, question.add), 'c NOT IN (?, ?, ?)');
    assert.deepEqual(question.values, SYSTEM_SCHEMAS.clickhouse.names);
  });
});
