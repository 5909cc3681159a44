import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createColors } from 'picocolors';
import { printPlan } from '../src/cli/commands/plan.js';
import type { Output } from '../src/cli/context.js';
import type { Plan } from '../src/core/plan.js';
import { planJsonLines, writePlanJson } from '../src/report/json.js';
import { planMarkdown } from '../src/report/markdown.js';
import { planText } from '../src/report/text.js';
import { wordDiff } from '../src/report/values.js';
import { widePlan } from './support/wide-catalog.js';

const plain = createColors(false);

function occurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

/** A stream that keeps what it is given, chunk by chunk, and drains slowly (backpressure). */
class Sink extends Writable {
  chunks: string[] = [];
  constructor() {
    super({ highWaterMark: 1024, decodeStrings: false });
  }
  override _write(chunk: string | Buffer, _encoding: string, done: () => void): void {
    this.chunks.push(chunk.toString());
    setImmediate(done);
  }
  text(): string {
    return this.chunks.join('');
  }
}

function quietIo(): Output {
  return { colors: plain, errColors: plain, out: () => undefined, err: () => undefined };
}

/** Every raw control a description could carry to rewrite a terminal or a rendered comment. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('text report', () => {
  it('prints a batched statement once, and points the other changes it applies to it', () => {
    const plan = widePlan({ type: 'clickhouse', tables: 2, columns: 20 });
    const text = planText(plan, { colors: plain, kind: 'plan' });
    assert.equal(plan.operations.length, 2);
    for (const operation of plan.operations) for (const statement of operation.statements) assert.equal(occurrences(text, statement), 1, statement.slice(0, 80));
    assert.equal(occurrences(text, '(in the statement under wh.db.s.t0.c0)'), 19);
    assert.equal(occurrences(text, '(in the statement under wh.db.s.t1.c0)'), 19);
  });

  it('counts changes in the summary and says how many operations and statements apply them', () => {
    const text = planText(widePlan({ type: 'mysql', tables: 3, columns: 4 }), { colors: plain, kind: 'plan' });
    assert.match(text, /Plan: 12 to add, 0 to change, 0 to remove\. 3 operations \(3 statements\)\./);
    assert.match(planMarkdown(widePlan({ type: 'mysql', tables: 3, columns: 4 }), 'plan'), /3 statements in 3 operations/);
  });

  it('shows the start and the length of a very long value, and the statement in full', () => {
    const description = 'word '.repeat(20_000).trim();
    const plan = widePlan({ type: 'postgres', tables: 1, columns: 1, describe: () => description });
    const text = planText(plan, { colors: plain, kind: 'plan' });
    const added = text.split('\n').find((line) => line.includes('+ description'));
    assert.ok(added && added.length < 2_000, `value line of ${added?.length} characters`);
    assert.match(added, /99,999 characters/);
    assert.equal(occurrences(text, description), 1, 'the statement keeps the whole description');
  });

  it('escapes terminal controls and bidi overrides in values, statements and word diffs', () => {
    const hostile = `Nice column \u001b[2J\u001b]0;owned\u0007 wiped\rfake line \u202eevil\u202c \u2066x\u2069 \u009b31m long enough to be word-diffed`;
    const plan = widePlan({ type: 'postgres', tables: 1, columns: 2, describe: (_t, c) => (c === 0 ? hostile : 'plain') });
    const text = planText(plan, { colors: plain, kind: 'plan' });
    assert.doesNotMatch(text, RAW_CONTROL);
    assert.match(text, /\\u001b\[2J/);
    assert.match(text, /\\u202e/);
    const markdown = planMarkdown(plan, 'plan');
    assert.doesNotMatch(markdown, RAW_CONTROL);
    const updated: Plan = { ...plan, changes: plan.changes.map((change) => ({ ...change, action: 'update', before: `${hostile} before` })) };
    assert.doesNotMatch(planText(updated, { colors: plain, kind: 'drift' }), RAW_CONTROL);
  });
});

describe('word diff', () => {
  it('gives up on long, very different descriptions and shows before -> after, shortened', () => {
    const words = (seed: number) => Array.from({ length: 8_000 }, (_, i) => `w${(i * seed) % 7919}`).join(' ');
    const diff = wordDiff(words(13), words(17), plain);
    assert.ok(diff.length < 5_000, `word diff of ${diff.length} characters`);
    assert.match(diff, /^\[-.*characters\)-\]\{\+.*characters\)\+\}$/s);
  });

  it('still diffs word by word where the edit is small', () => {
    const before = `${'lorem ipsum '.repeat(50)}end`;
    assert.equal(wordDiff(before, `${before} now`, plain), `${before} {+now+}`);
  });
});

describe('markdown report', () => {
  it('fences ClickHouse statements with thousands of backquoted identifiers', () => {
    const plan = widePlan({ type: 'clickhouse', tables: 3_000, columns: 20 });
    const markdown = planMarkdown(plan, 'plan');
    assert.match(markdown, /^```sql$/m);
    assert.equal(occurrences(markdown, plan.operations[2_999]?.statements[0] ?? '?'), 1);
  });
});

describe('json plan', () => {
  it('writes one change and one operation per line and reads back as the plan', async () => {
    const plan = widePlan({ type: 'mysql', tables: 3, columns: 4 });
    const lines = [...planJsonLines(plan)];
    assert.deepEqual(JSON.parse(lines.join('\n')), plan);
    for (const change of plan.changes) assert.ok(lines.includes(`    ${JSON.stringify(change)},`) || lines.includes(`    ${JSON.stringify(change)}`));
    assert.ok(lines.length < plan.changes.length + plan.operations.length + 20);
    const sink = new Sink();
    await writePlanJson(plan, sink);
    assert.deepEqual(JSON.parse(sink.text()), plan);
  });
});

describe('printPlan', () => {
  it('streams each format in bounded chunks, waiting for the stream to drain', async () => {
    const plan = widePlan({ type: 'postgres', tables: 200, columns: 20 });
    for (const format of ['text', 'markdown', 'json'] as const) {
      const sink = new Sink();
      await printPlan(plan, format, quietIo(), 'plan', sink);
      assert.ok(sink.chunks.length > 5, `${format}: ${sink.chunks.length} chunks`);
      for (const chunk of sink.chunks) assert.ok(chunk.length <= 256 * 1024, `${format}: a chunk of ${chunk.length} characters`);
      if (format === 'text') assert.equal(sink.text(), `${planText(plan, { colors: plain, kind: 'plan' })}\n`);
      if (format === 'markdown') assert.equal(sink.text(), planMarkdown(plan, 'plan'));
      if (format === 'json') assert.deepEqual(JSON.parse(sink.text()), plan);
    }
  });
});
