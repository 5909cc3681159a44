import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { importDriver } from '../src/connectors/shared/driver.js';
import { MetaformError } from '../src/core/errors.js';

describe('loading a database client on demand', () => {
  it('finds a client installed in the project when metaform itself lacks it, and says how to install a missing one', async () => {
    const project = await mkdtemp(join(tmpdir(), 'metaform-driver-'));
    try {
      const name = 'metaform-test-fake-driver';
      await mkdir(join(project, 'node_modules', name), { recursive: true });
      await writeFile(join(project, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
      await writeFile(join(project, 'node_modules', name, 'index.js'), 'exports.kind = "fake";\n');
      const loaded = await importDriver<{ default: { kind: string } }>(name, () => import(name), join(project, 'sub', 'folder'));
      assert.equal(loaded.default.kind, 'fake');
      const missing = 'metaform-test-no-such-driver';
      await assert.rejects(importDriver(missing, () => import(missing), project), (error: unknown) => {
        assert.ok(error instanceof MetaformError);
        assert.match(String(error), /the metaform-test-no-such-driver client is not installed\n {2}hint: install it beside metaform or in the project: npm install metaform-test-no-such-driver/);
        return true;
      });
    } finally {
      await rm(project, { recursive: true, force: true });
    }
  });
});
