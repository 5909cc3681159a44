import assert from 'node:assert/strict';
import { chmod, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MetaformError, MetaformErrors } from '../src/core/errors.js';
import { loadDesired } from '../src/core/desired.js';
import { loadProject } from '../src/core/project.js';
import { tempProject, type TempProject } from './support/project.js';

const CONFIG = { version: 1, services: { w: { type: 'postgres', connection: {} } } };

/** Every message of a load failure, one per line, as the CLI prints them. */
async function loadErrors(dir: string): Promise<string> {
  const error = await loadProject(dir).then(
    () => assert.fail('the project should not load'),
    (caught: unknown) => caught,
  );
  if (error instanceof MetaformErrors) return error.errors.map(String).join('\n');
  assert.ok(error instanceof MetaformError, `not a MetaformError: ${String((error as Error).stack)}`);
  return error.toString();
}

async function withProject(metadata: Record<string, string | object>, run: (project: TempProject) => Promise<void>, config: object = CONFIG): Promise<void> {
  const project = await tempProject(config, metadata);
  try {
    await run(project);
  } finally {
    await project.remove();
  }
}

/** Names of the desired objects of service w, as paths. */
async function desiredPaths(dir: string): Promise<string[]> {
  const project = await loadProject(dir);
  const paths: string[] = [];
  const visit = (objects: Iterable<{ path: string[]; children: Map<string, unknown> }>) => {
    for (const object of objects) {
      paths.push(object.path.join('/'));
      visit(object.children.values() as Iterable<{ path: string[]; children: Map<string, unknown> }>);
    }
  };
  visit(project.desired.get('w')?.values() ?? []);
  return paths;
}

describe('file encoding', () => {
  it('refuses bytes that are not UTF-8, at the first bad byte, instead of storing U+FFFD', async () => {
    await withProject({ 'metadata/.gitkeep': '' }, async (project) => {
      // A genuine U+FFFD and a two-byte letter before the bad byte keep the column honest.
      const text = Buffer.concat([Buffer.from('service: w\ndatabase: db\ndescription: \uFFFD é caf'), Buffer.from([0xe9]), Buffer.from(' latin-1\n')]);
      await writeFile(join(project.dir, 'metadata/latin1.yaml'), text);
      assert.match(await loadErrors(project.dir), /^metadata\/latin1\.yaml:3:21: not valid UTF-8 \(byte 0xE9 at offset \d+\)/m);
    });
  });

  it('refuses a metaform.yaml that is not UTF-8', async () => {
    await withProject({}, async (project) => {
      await writeFile(join(project.dir, 'metaform.yaml'), Buffer.concat([Buffer.from('version: 1\nservices:\n  w'), Buffer.from([0xff, 0xfe]), Buffer.from(':\n    type: postgres\n')]));
      assert.match(await loadErrors(project.dir), /^metaform\.yaml:3:4: not valid UTF-8 \(byte 0xFF at offset 24\)/m);
    });
  });
});

describe('keys YAML reads as something other than text', () => {
  const file = (tables: string) => `service: w\ndatabase: db\nschemas:\n  s:\n    tables:\n${tables}`;

  it('refuses number, boolean and null keys as names, with the quoting fix', async () => {
    await withProject({ 'metadata/a.yaml': file('      010: Table ten?\n      1.0: x\n      true: { tags: { ~: x } }\n') }, async (project) => {
      const errors = await loadErrors(project.dir);
      assert.match(errors, /^metadata\/a\.yaml:6:7: key 010 is read by YAML as the number 10, not as a name\n {2}hint: quote it: '010':/m);
      assert.match(errors, /^metadata\/a\.yaml:7:7: key 1\.0 is read by YAML as the number 1, not as a name\n {2}hint: quote it: '1\.0':/m);
      assert.match(errors, /^metadata\/a\.yaml:8:7: key true is read by YAML as the boolean true/m);
      assert.match(errors, /^metadata\/a\.yaml:8:23: key ~ is read by YAML as null/m);
    });
  });

  it('takes quoted keys as the names they spell', async () => {
    await withProject({ 'metadata/a.yaml': file("      '010': Table ten\n      \"true\": yes\n") }, async (project) => {
      assert.deepEqual(await desiredPaths(project.dir), ['db', 'db/s', 'db/s/010', 'db/s/true']);
    });
  });

  it('refuses service and database values YAML reads as numbers, with the quoting fix', async () => {
    await withProject({ 'metadata/a.yaml': 'service: w\ndatabase: 010\n' }, async (project) => {
      assert.match(await loadErrors(project.dir), /^metadata\/a\.yaml:2:11: database must be a string: YAML reads 010 as the number 10\n {2}hint: quote it: '010'/m);
    });
  });

  it('refuses such keys in metaform.yaml too (a service named 010)', async () => {
    await withProject({}, async (project) => {
      await writeFile(join(project.dir, 'metaform.yaml'), 'version: 1\nservices:\n  010:\n    type: postgres\n');
      assert.match(await loadErrors(project.dir), /^metaform\.yaml:3:3: key 010 is read by YAML as the number 10/m);
    });
  });
});

describe('lone surrogates', () => {
  it('refuses them in values, keys and tags, with their place', async () => {
    await withProject(
      {
        'metadata/a.yaml':
          'service: w\ndatabase: db\ndescription: "half \\ud800 a pair"\nowners: ["\\udc00"]\nschemas:\n  "s\\ud83d":\n    tags: { k: "\\ud800" }\n',
      },
      async (project) => {
        const errors = await loadErrors(project.dir);
        assert.match(errors, /^metadata\/a\.yaml:3:14: text with a lone surrogate \(\\ud800\)/m);
        assert.match(errors, /^metadata\/a\.yaml:4:10: text with a lone surrogate \(\\udc00\)/m);
        assert.match(errors, /^metadata\/a\.yaml:6:3: text with a lone surrogate \(\\ud83d\)/m);
        assert.match(errors, /^metadata\/a\.yaml:7:16: text with a lone surrogate/m);
      },
    );
  });

  it('accepts a proper pair written as escapes', async () => {
    await withProject({ 'metadata/a.yaml': 'service: w\ndatabase: db\ndescription: "smile \\ud83d\\ude00"\n' }, async (project) => {
      const loaded = await loadProject(project.dir);
      assert.equal(loaded.desired.get('w')?.get('db')?.description?.value, 'smile \u{1F600}');
    });
  });
});

describe('metadata folders', () => {
  it('refuses a folder that does not exist, naming it and where it is configured', async () => {
    await withProject({ 'metadata/a.yaml': 'service: w\ndatabase: db\n' }, async (project) => {
      await writeFile(join(project.dir, 'metaform.yaml'), 'version: 1\nmetadata: [metdata]\nservices:\n  w: { type: postgres }\n');
      assert.match(await loadErrors(project.dir), /^metaform\.yaml:2:12: metadata folder "metdata" does not exist/m);
    });
  });

  it('refuses a missing default folder, naming metaform.yaml', async () => {
    await withProject({}, async (project) => {
      assert.match(await loadErrors(project.dir), /^metaform\.yaml:1:1: metadata folder "metadata" does not exist/m);
    });
  });

  it('loads an existing folder with no YAML files (an init-ed project with a .gitkeep)', async () => {
    await withProject({ 'metadata/.gitkeep': '' }, async (project) => {
      const loaded = await loadProject(project.dir);
      assert.deepEqual(loaded.files, []);
    });
  });

  it('follows symlinked files and folders, once each, and survives a symlink loop', async () => {
    await withProject(
      {
        'shared/a.yaml': 'service: w\ndatabase: db\nschemas:\n  from_link: {}\n',
        'shared/nested/b.yaml': 'service: w\ndatabase: db2\n',
        'metadata/c.yaml': 'service: w\ndatabase: db3\n',
      },
      async (project) => {
        await symlink(join(project.dir, 'shared/a.yaml'), join(project.dir, 'metadata/linked.yaml'));
        await symlink(join(project.dir, 'shared/nested'), join(project.dir, 'metadata/nested'));
        await symlink(join(project.dir, 'metadata'), join(project.dir, 'metadata/loop'));
        assert.deepEqual((await desiredPaths(project.dir)).sort(), ['db', 'db/from_link', 'db2', 'db3']);
      },
    );
  });

  it('refuses a broken symlink to a YAML file, naming it', async () => {
    await withProject({ 'metadata/c.yaml': 'service: w\ndatabase: db3\n' }, async (project) => {
      await symlink(join(project.dir, 'gone.yaml'), join(project.dir, 'metadata/broken.yaml'));
      assert.match(await loadErrors(project.dir), /metadata\/broken\.yaml: cannot read: the symbolic link points to nothing/);
    });
  });
});

describe('YAML errors carry their place', () => {
  it('locates an alias bomb (billion laughs)', async () => {
    const nine = (alias: string) => `[${Array.from({ length: 9 }, () => alias).join(', ')}]`;
    const bomb = `laughs:\n  a: &a ${nine('x')}\n  b: &b ${nine('*a')}\n  c: &c ${nine('*b')}\n  d: &d ${nine('*c')}\n  e: &e ${nine('*d')}\n  f: ${nine('*e')}\n`;
    await withProject({ 'metadata/bomb.yaml': `service: w\ndatabase: db\n${bomb}` }, async (project) => {
      assert.match(await loadErrors(project.dir), /^metadata\/bomb\.yaml:\d+:\d+: invalid YAML: aliases expand to too many nodes/m);
    });
  });

  it('locates an alias to an anchor that does not exist', async () => {
    await withProject({ 'metadata/a.yaml': 'service: w\ndatabase: db\ndescription: *nowhere\n' }, async (project) => {
      assert.match(await loadErrors(project.dir), /^metadata\/a\.yaml:3:14: invalid YAML: Unresolved alias/m);
    });
  });
});

describe('file read errors', () => {
  it('names metaform.yaml when it is a directory', async () => {
    await withProject({ 'metadata/a.yaml': 'service: w\ndatabase: db\n' }, async (project) => {
      await rm(join(project.dir, 'metaform.yaml'));
      await mkdir(join(project.dir, 'metaform.yaml'));
      const message = await loadErrors(project.dir);
      assert.match(message, /^metaform\.yaml: cannot read: it is a directory/);
      assert.doesNotMatch(message, /EISDIR/);
    });
  });

  it('names a metadata file it may not read', async (t) => {
    if (process.getuid?.() === 0) return t.skip('root reads every file');
    await withProject({ 'metadata/a.yaml': 'service: w\ndatabase: db\n' }, async (project) => {
      await chmod(join(project.dir, 'metadata/a.yaml'), 0);
      assert.match(await loadErrors(project.dir), /^metadata\/a\.yaml: cannot read: permission denied/);
    });
  });
});

describe('__proto__ as a name', () => {
  it('keeps a schema, table, column and tag key named __proto__ when loading', async () => {
    const metadata = 'service: w\ndatabase: db\nschemas:\n  __proto__:\n    tables:\n      __proto__:\n        columns:\n          __proto__: { description: c, tags: { __proto__: v } }\n';
    await withProject({ 'metadata/a.yaml': metadata }, async (project) => {
      const desired = await loadDesired({ root: project.dir, files: [join(project.dir, 'metadata/a.yaml')], services: new Set(['w']), canonicalName: (_, name) => name });
      const column = desired.get('w')?.get('db')?.children.get('__proto__')?.children.get('__proto__')?.children.get('__proto__');
      assert.deepEqual(column?.path, ['db', '__proto__', '__proto__', '__proto__']);
      assert.equal(column?.description?.value, 'c');
      assert.equal(column?.tags?.get('__proto__')?.value, 'v');
    });
  });
});
