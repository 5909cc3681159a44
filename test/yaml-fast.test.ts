import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { fastDocument } from '../src/core/yaml-fast.js';
import { HOSTILE_DESCRIPTIONS } from './support/strings.js';

/** Every node's path, kind, value and start offset: what the loader reads from a document. */
function shape(node: unknown, path = '$', out: string[] = []): string[] {
  if (isMap(node)) {
    out.push(`${path} map`);
    for (const pair of node.items) {
      const key = pair.key as { value?: unknown; range?: number[] };
      out.push(`${path} key ${JSON.stringify(key.value)} @${key.range?.[0]}`);
      shape(pair.value, `${path}.${String(key.value)}`, out);
    }
  } else if (isSeq(node)) {
    out.push(`${path} seq`);
    node.items.forEach((item, i) => shape(item, `${path}[${i}]`, out));
  } else if (isScalar(node)) out.push(`${path} ${JSON.stringify(node.value)} @${node.range?.[0]}`);
  else out.push(`${path} ${JSON.stringify(node)}`);
  return out;
}

const composed = (text: string) => parseDocument(text, { uniqueKeys: false });

describe('loading ordinary YAML in one pass over its lines', () => {
  const ordinary = [
    'service: shop\ndatabase: postgres\n',
    `# a comment\n---\nservice: shop\ndatabase: analytics\ndescription: "Analytics"\nowners: [a]\n`.replace('owners: [a]\n', 'owners:\n  - a\n  - "b c"\n'),
    [
      'service: shop',
      'database: postgres',
      'schemas:',
      '  sales:   # a trailing comment',
      '    description: one line',
      '    tables:',
      '      orders: One row per order',
      '      empty:',
      "      quoted: 'it''s'",
      '      items:',
      '        description: "line one\\nline two"',
      '        tags:',
      '          PII: "yes: really"',
      '          Tier:',
      '        columns:',
      ...HOSTILE_DESCRIPTIONS.map((text, i) => `          c${i}: ${JSON.stringify(text).replace('\u007f', '\\u007f')}`),
      '          "010": quoted number-like key',
      '          nothing: ~',
      '',
    ].join('\n'),
  ];

  for (const [i, text] of ordinary.entries())
    it(`gives the document the composer gives (case ${i + 1})`, () => {
      const fast = fastDocument(text, new LineCounter());
      const document = fast?.document;
      assert.ok(document, 'taken by the fast way');
      const reference = composed(text);
      assert.deepEqual(document.toJS(), reference.toJS());
      assert.deepEqual(fast?.data, reference.toJS());
      assert.deepEqual(shape(document.contents), shape(reference.contents));
    });

  it('counts lines as the composer does', () => {
    const lines = new LineCounter();
    const text = ordinary[2] ?? '';
    const document = fastDocument(text, lines)?.document;
    assert.ok(document);
    const reference = new LineCounter();
    parseDocument(text, { lineCounter: reference });
    assert.deepEqual(lines.lineStarts, reference.lineStarts);
  });

  const unusual: Record<string, string> = {
    'a flow map': 'service: shop\ncolumns: { a: b }\n',
    'an anchor and an alias': 'a: &x v\nb: *x\n',
    'a tag': 'a: !!str 010\n',
    'a number-like key': 'tables:\n  010: x\n',
    'a boolean value': 'description: true\n',
    'a number value': 'description: 1.0\n',
    'a null key': '~: x\n',
    'a duplicate key': 'a: x\na: y\n',
    'an explicit key': '? a\n: b\n',
    'two documents': 'a: x\n---\nb: y\n',
    'a lone surrogate': 'a: "\\ud800"\n',
    'a parse error': 'a: "unterminated\n',
    'a directive': '%YAML 1.2\n---\na: b\n',
    'a folded block scalar': 'a: >\n  text\n',
    'a block scalar with an indentation indicator': 'a: |2\n   text\n',
    'a flow list': 'owners: [a, b]\n',
    'a multi-line plain scalar': 'a: one\n  two\n',
    'a tab': 'a:\n\tb: c\n',
    'a key out of its column': 'a:\n  b: x\n c: y\n',
    'a map on its key’s line': 'a: b: c\n',
    'a YAML escape JSON lacks': 'a: "\\x41"\n',
  };
  for (const [name, text] of Object.entries(unusual))
    it(`leaves ${name} to the composer, which reports it precisely`, () => {
      assert.equal(fastDocument(text, new LineCounter())?.document, undefined);
    });
});
