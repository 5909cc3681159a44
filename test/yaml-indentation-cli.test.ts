/**
 * Issue 22: a mis-indented metadata file was planned onto another object (a table's description
 * onto the database). Through the real CLI, on PostgreSQL (PGlite): every file the YAML composer
 * rejects is refused by validate and plan, at its place, and nothing is planned from it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metaform } from './support/cli.js';
import { startPglite, type TestPostgres } from './support/postgres.js';
import { tempProject, type TempProject } from './support/project.js';

describe('mis-indented metadata files through the CLI', () => {
  let db: TestPostgres;
  let project: TempProject;

  before(async () => {
    db = await startPglite();
    await db.query('CREATE SCHEMA sales; CREATE TABLE sales.orders (id int)');
    project = await tempProject({ version: 1, services: { n: { type: 'postgres', connection: db.connection } } });
  });
  after(async () => {
    await project.remove();
    await db.close();
  });

  const run = async (text: string, command: 'validate' | 'plan') => {
    await project.write('metadata/crit.yaml', text);
    return metaform(project.dir, [command]);
  };

  const TABBED = 'service: n\ndatabase: postgres\nschemas:\n  sales:\n    tables:\n      orders:\n\t  description: tabbed\n';
  const MISALIGNED = 'service: n\ndatabase: postgres\nschemas:\n  sales:\n    tables:\n      orders:\n        columns:\n          id: x\n     description: misaligned\n';

  for (const command of ['validate', 'plan'] as const) {
    it(`${command} refuses a tab used as indentation, at its place, and plans nothing`, async () => {
      const result = await run(TABBED, command);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /metadata\/crit\.yaml:7:1: invalid YAML: tabs are not allowed as indentation/);
      assert.match(result.stderr, /indent with spaces/);
      assert.doesNotMatch(result.stdout, /COMMENT ON|Valid/);
    });

    it(`${command} refuses a key indented out of its siblings' column, at the key, and plans nothing`, async () => {
      const result = await run(MISALIGNED, command);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /metadata\/crit\.yaml:9:6: invalid YAML: this key is indented more than its siblings \(column 6; "tables" at line 5 is at column 5\)/);
      assert.doesNotMatch(result.stdout, /COMMENT ON|Valid/);
    });
  }

  it('a tab before a nested key is reported as a tab, not as an unknown key (issue 20, item 7)', async () => {
    const result = await run('service: n\ndatabase: postgres\nschemas:\n  sales:\n\ttables:\n      orders: x\n', 'validate');
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /metadata\/crit\.yaml:5:1: invalid YAML: tabs are not allowed as indentation/);
    assert.doesNotMatch(result.stderr, /unknown key/);
  });

  it('plans nothing from a file whose lines are shifted by one space or a tab', async () => {
    const lines = [
      'service: n',
      'database: postgres',
      'description: the database',
      'schemas:',
      '  sales:',
      '    description: the schema',
      '    tables:',
      '      orders:',
      '        description: the table',
      '        columns:',
      '          id: the column',
      '',
    ];
    const intact = await run(lines.join('\n'), 'plan');
    assert.equal(intact.code, 0, intact.stderr);
    assert.equal(intact.stdout.match(/COMMENT ON/g)?.length, 4, intact.stdout);
    // Each description line, moved left, moved right, or tabbed, would land on another object.
    const shifted = [
      [8, (line: string) => line.slice(1)],
      [5, (line: string) => ` ${line}`],
      [10, (line: string) => `\t${line.trimStart()}`],
    ] as const;
    for (const [index, shift] of shifted) {
      const text = lines.map((line, i) => (i === index ? shift(line) : line)).join('\n');
      const result = await run(text, 'plan');
      assert.equal(result.code, 1, `line ${index + 1} shifted: ${result.stdout}`);
      // The composer names the line where the columns stop agreeing: the shifted one or the next.
      assert.match(result.stderr, new RegExp(`metadata/crit\\.yaml:(${index + 1}|${index + 2}):\\d+: invalid YAML`), result.stderr);
      assert.doesNotMatch(result.stdout, /COMMENT ON/);
    }
  });
});
