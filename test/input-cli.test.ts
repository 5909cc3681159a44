import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metaform } from './support/cli.js';
import { tempProject, type TempProject } from './support/project.js';



/** Runs the real CLI in a child process; `closeStdout` closes the reading end at once, as `| head -0` would. */

async function withProject(config: string, metadata: Record<string, string>, run: (project: TempProject) => Promise<void>): Promise<void> {
  const project = await tempProject({}, metadata);
  try {
    await project.write('metaform.yaml', config);
    await run(project);
  } finally {
    await project.remove();
  }
}

const CONFIG = 'version: 1\nservices:\n  w:\n    type: postgres\n';

describe('metadata folders on the command line', () => {
  it('validate fails on a misspelt folder, naming it and where it is configured', async () => {
    await withProject('version: 1\nmetadata: [metdata]\nservices:\n  w: { type: postgres }\n', { 'metadata/a.yaml': 'service: w\ndatabase: db\n' }, async (project) => {
      const result = await metaform(project.dir, ['validate']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /metaform\.yaml:2:12: metadata folder "metdata" does not exist \(configured in metaform\.yaml\)/);
      assert.doesNotMatch(result.stdout, /Valid/);
    });
  });

  it('validate warns, and still succeeds, on a folder with no YAML files (a fresh project with a .gitkeep)', async () => {
    await withProject(CONFIG, { 'metadata/.gitkeep': '' }, async (project) => {
      const result = await metaform(project.dir, ['validate']);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /Warning: metaform\.yaml:1:1: metadata folder "metadata" holds no \*\.yaml file/);
      assert.match(result.stdout, /Valid: 1 service, 0 metadata files, 0 objects\./);
    });
  });
});

describe('raw template placeholders', () => {
  it('validate warns about every {raw.*} placeholder, with service, key, placeholder, place and danger', async () => {
    const config = [
      'version: 1',
      'services:',
      '  w:',
      '    type: postgres',
      '    templates:',
      `      table.description: "COMMENT ON TABLE {table} IS '{raw.value}'"`,
      '      column.description: COMMENT ON COLUMN {object} IS {value}',
      '      schema.owner: |',
      '        ALTER SCHEMA {schema}',
      '          OWNER TO {raw.owner}',
      '',
    ].join('\n');
    await withProject(config, { 'metadata/a.yaml': 'service: w\ndatabase: db\n' }, async (project) => {
      const result = await metaform(project.dir, ['validate']);
      assert.equal(result.code, 0, result.stderr);
      const lines = config.split('\n');
      const col = (line: number, text: string) => (lines[line - 1]?.indexOf(text) ?? -2) + 1;
      assert.match(result.stderr, new RegExp(`Warning: metaform\\.yaml:6:${col(6, '{raw.value}')}: template table\\.description of service w uses \\{raw\\.value\\}: the text is put into the SQL unescaped`));
      assert.match(result.stderr, new RegExp(`Warning: metaform\\.yaml:10:${col(10, '{raw.owner}')}: template schema\\.owner of service w uses \\{raw\\.owner\\}`));
      assert.doesNotMatch(result.stderr, /column\.description/);
      assert.equal(result.stderr.match(/Warning:/g)?.length, 2);
    });
  });
});

describe('output closed early', () => {
  it('exits quietly when stdout is closed (metaform plan | head -1), without a stack trace', async () => {
    await withProject(CONFIG, { 'metadata/a.yaml': 'service: w\ndatabase: db\n' }, async (project) => {
      const result = await metaform(project.dir, ['validate'], { closeStdout: true });
      assert.equal(result.stderr, '');
      assert.equal(result.code, 0);
    });
  });
});

describe('status --limit', () => {
  it('takes a positive integer only', async () => {
    await withProject(CONFIG, { 'metadata/a.yaml': 'service: w\ndatabase: db\n' }, async (project) => {
      for (const value of ['abc', '-1', '0', '1.5', '2x']) {
        const result = await metaform(project.dir, ['status', '-n', value]);
        assert.equal(result.code, 1, `${value}: ${result.stdout}`);
        assert.match(result.stderr, /option '-n, --limit <count>' argument '.*' is invalid\. a positive integer/, value);
      }
      const ok = await metaform(project.dir, ['status', '-n', '3']);
      assert.equal(ok.code, 0, ok.stderr);
    });
  });
});
