/**
 * Scale: 200,000 changes (10,000 tables x 20 columns, every column described in YAML and none
 * live) through diff, plan and every report format, per engine; and a schema of 130,000 tables
 * loaded and validated from YAML. Nothing may throw (call stack, string length); speed is the
 * bench's business, not this test's.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createColors } from 'picocolors';
import { stringify } from 'yaml';
import { printPlan } from '../src/cli/commands/plan.js';
import { validateCommand } from '../src/cli/commands/validate.js';
import { EXIT, type Output } from '../src/cli/context.js';
import type { Plan } from '../src/core/plan.js';
import { loadProject } from '../src/core/project.js';
import { tempProject } from './support/project.js';
import { widePlan } from './support/wide-catalog.js';

const TABLES = 10_000;
const COLUMNS = 20;
const CHANGES = TABLES * COLUMNS;
const plain = createColors(false);

/** Counts what it is written, keeping nothing. */
class CountingSink extends Writable {
  bytes = 0;
  largestChunk = 0;
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.bytes += chunk.length;
    this.largestChunk = Math.max(this.largestChunk, chunk.length);
    done();
  }
}

const io: Output = { colors: plain, errColors: plain, out: () => undefined, err: () => undefined };

async function expectReports(plan: Plan, operations: number): Promise<void> {
  assert.equal(plan.changes.length, CHANGES);
  assert.equal(plan.summary.add, CHANGES);
  assert.equal(plan.operations.length, operations);
  for (const format of ['text', 'markdown', 'json'] as const) {
    const sink = new CountingSink();
    await printPlan(plan, format, io, 'plan', sink);
    assert.ok(sink.bytes > CHANGES * 20, `${format}: ${sink.bytes} bytes`);
    assert.ok(sink.largestChunk < 1024 * 1024, `${format}: a chunk of ${sink.largestChunk} bytes`);
  }
}

describe('scale: 200,000 column descriptions', () => {
  for (const type of ['mysql', 'clickhouse'] as const)
    it(`plans and reports ${CHANGES} changes on ${type} (one ALTER per table) in text, markdown and json`, () =>
      expectReports(widePlan({ type, tables: TABLES, columns: COLUMNS }), TABLES));

  it(`plans ${CHANGES} changes on postgres (one statement each) in one render call`, () =>
    expectReports(widePlan({ type: 'postgres', tables: TABLES, columns: COLUMNS }), CHANGES));

  it(`reports ${CHANGES} postgres operations in text, markdown and json`, () =>
    expectReports(widePlan({ type: 'postgres', tables: TABLES, columns: COLUMNS }, COLUMNS), CHANGES));
});

describe('scale: one schema of 130,000 tables', () => {
  it('loads and validates it from one YAML file', async () => {
    const tables: Record<string, string> = {};
    for (let i = 0; i < 130_000; i++) tables[`t${i}`] = `Table ${i}`;
    const project = await tempProject(
      { version: 1, services: { wh: { type: 'postgres', connection: { host: '127.0.0.1', user: 'postgres', database: 'wh' } } } },
      { 'metadata/wh.yaml': stringify({ service: 'wh', database: 'wh', schemas: { big: { tables } } }) },
    );
    try {
      const loaded = await loadProject(project.dir);
      const schema = loaded.desired.get('wh')?.get('wh')?.children.get('big');
      assert.equal(schema?.children.size, 130_000);
      assert.equal(await validateCommand({ dir: project.dir }), EXIT.ok);
    } finally {
      await project.remove();
    }
  });
});
