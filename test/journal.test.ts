import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { JournalWriter, readRuns, type JournalOperation } from '../src/core/journal.js';

const operation = (id: string, outcome: JournalOperation['outcome']): JournalOperation => ({
  id,
  service: 's',
  database: 'd',
  statements: [`COMMENT ON TABLE ${id} IS 'x'`],
  changes: [],
  outcome,
  durationMs: 1,
  attempts: 1,
});

describe('run journal', () => {
  it('is readable line by line before the run ends, and whole after', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metaform-journal-'));
    try {
      const writer = JournalWriter.open(dir, { id: 'run-1', command: 'apply', startedAt: '2026-11-25T00:00:00.000Z', planCreatedAt: 'p', planned: { operations: 3, changes: 4 } });
      writer.skipped({ id: 'c4', address: 'a', reason: 'no' });
      writer.operation(operation('t1', 'succeeded'));
      writer.flush();
      // As kill -9 would leave it: no end line, the process gone (a pid that cannot be alive).
      const partial = (await readFile(writer.path, 'utf8')).replace(/"pid":\d+/, '"pid":999999999');
      await writeFile(join(dir, 'runs', 'run-0.jsonl'), partial + '{"type":"operation","id":"t2","outc');
      writer.operation(operation('t2', 'failed'));
      writer.operation(operation('t3', 'not-run'));
      const summary = writer.close({ finishedAt: '2026-11-25T00:00:01.000Z', interrupted: 'SIGTERM' });
      assert.deepEqual(summary, { succeeded: 1, failed: 1, notRun: 1, skipped: 1 });

      const { runs, unreadable } = await readRuns(dir, 10);
      assert.deepEqual(unreadable, []);
      const [complete, killed] = runs;
      assert.equal(complete?.state, 'interrupted');
      assert.equal(complete?.interrupted, 'SIGTERM');
      assert.deepEqual(complete?.operations.map((op) => op.id), ['t1', 't2', 't3']);
      assert.equal(killed?.state, 'killed');
      assert.equal(killed?.unreadableLines, 1, 'the line cut short is counted, not fatal');
      assert.deepEqual(killed?.summary, { succeeded: 1, failed: 0, notRun: 0, skipped: 1 });
      assert.equal(killed?.planned.operations, 3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names a run file it cannot read and still lists the good runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metaform-journal-'));
    try {
      JournalWriter.open(dir, { id: 'run-a', command: 'apply', startedAt: '2026-11-25T00:00:00.000Z', planCreatedAt: 'p', planned: { operations: 0, changes: 0 } }).close({ finishedAt: 'f' });
      await writeFile(join(dir, 'runs', 'run-b.jsonl'), '\u0000\u0001 not json');
      await writeFile(join(dir, 'runs', 'run-c.json'), '{"truncated": ');
      const { runs, unreadable } = await readRuns(dir, 10);
      assert.deepEqual(runs.map((run) => run.id), ['run-a']);
      assert.deepEqual(unreadable.map((file) => file.name), ['run-c.json', 'run-b.jsonl']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
