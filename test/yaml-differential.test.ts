import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify } from 'yaml';
import { twoLevelDesiredState } from '../bench/support.js';
import { fastDocument } from '../src/core/yaml-fast.js';
import { HOSTILE_DESCRIPTIONS, HOSTILE_IDENTIFIERS } from './support/strings.js';

/**
 * The fast loader against the `yaml` composer, on thousands of files whose indentation was
 * damaged: whenever the fast loader builds a document, the composer must accept the file and
 * build the same one, node by node, with the same places. (When the fast loader declines, the
 * composer itself is used, so that is always safe.)
 */

/** Every node's path, kind, value and range: what the loader and its error messages read. */
function shape(node: unknown, path = '$', out: string[] = []): string[] {
  if (isMap(node)) {
    out.push(`${path} map @${node.range?.[0]}`);
    for (const pair of node.items) {
      const key = pair.key as { value?: unknown; range?: number[] };
      out.push(`${path} key ${JSON.stringify(key.value)} @${key.range?.[0]}-${key.range?.[1]}`);
      shape(pair.value, `${path}.${String(key.value)}`, out);
    }
  } else if (isSeq(node)) {
    out.push(`${path} seq @${node.range?.[0]}`);
    node.items.forEach((item, i) => shape(item, `${path}[${i}]`, out));
  } else if (isScalar(node)) out.push(`${path} ${JSON.stringify(node.value)} @${node.range?.[0]}-${node.range?.[1]}`);
  else out.push(`${path} ${JSON.stringify(node)}`);
  return out;
}

const root = fileURLToPath(new URL('..', import.meta.url));

/** YAML written in the tests themselves: template literals that hold a metadata file. */
function testFixtures(): string[] {
  const found: string[] = [];
  const dir = `${root}test/`;
  for (const name of readdirSync(dir).filter((file) => file.endsWith('.test.ts')).sort()) {
    const source = readFileSync(dir + name, 'utf8');
    for (const match of source.matchAll(/`([^`$\\]*(?:service|database):[^`$\\]*)`/g)) if (match[1]?.includes('\n')) found.push(match[1]);
  }
  // The regular expression also pairs backticks across code, and some tests hold invalid files.
  return found.filter((text) => parseDocument(text).errors.length === 0);
}

function examples(): string[] {
  const dir = `${root}examples/demo/metadata/`;
  return readdirSync(dir)
    .filter((file) => /\.ya?ml$/.test(file))
    .sort()
    .map((file) => readFileSync(dir + file, 'utf8'));
}

/** What the bench writes, at a small size, and a file with every kind of value the loader takes. */
function generated(): string[] {
  const bench = stringify(twoLevelDesiredState('shop', { tables: 12, columnsPerTable: 3, changes: 6, columnTables: 4 } as never));
  const columns = Object.fromEntries(HOSTILE_DESCRIPTIONS.map((text, i) => [`c${i}`, text.slice(0, 200)]));
  const rich = stringify({
    service: 'shop',
    database: 'postgres',
    description: 'Line one\nline two\n',
    owners: ['a', 'b c'],
    tags: { PII: 'yes: really', Tier: null },
    schemas: {
      [HOSTILE_IDENTIFIERS.schema]: {
        description: 'folded text that goes on and on and on and on and on and on and on and on and on and on and on past the line width',
        tables: { [HOSTILE_IDENTIFIERS.table]: { columns: { ...columns, [HOSTILE_IDENTIFIERS.column]: { description: 'x', tags: { a: 'b' } } } }, empty: null, short: 'One row' },
      },
    },
  });
  const handWritten = [
    '# a comment',
    '---',
    'service: shop',
    'database: postgres',
    'owners:',
    '- alice',
    '- "bob"',
    'schemas:',
    '  sales:   # trailing',
    '    description: >-',
    '      folded',
    '      text',
    '',
    '      more',
    '    tables:',
    '      orders:',
    '        description: |',
    '          line one',
    '            indented',
    '        owners: [a, b]',
    '        columns:',
    '          id: Primary key',
    "          note: 'it''s'",
    '          "010": quoted',
    '          nothing: ~',
    '          empty:',
    '',
  ].join('\n');
  const columnsBench = {
    service: 'bench',
    database: 'bench',
    schemas: Object.fromEntries(
      [0, 1].map((s) => [`s${s}`, { tables: Object.fromEntries([0, 1, 2].map((t) => [`t${t}`, { columns: { c0: `Column 0 of table ${t}, described`, c1: 'it\'s "quoted"' } }])) }]),
    ),
  };
  const parsedRich = parseDocument(rich).toJS() as object;
  // The same data as other writers lay it out: four-space indentation, lists not indented.
  const layouts = [columnsBench, parsedRich].flatMap((data) => [
    stringify(data),
    stringify(data, { indent: 4 }),
    stringify(data, { indentSeq: false, lineWidth: 40 }),
    stringify(data, { indentSeq: false, lineWidth: 0 }),
  ]);
  // What the fast way takes, in every form it takes.
  const ordinary = [
    '# header comment',
    '---',
    'service: shop   # the service',
    'database: "postgres"',
    "description: 'it''s the ''main'' one: really'",
    'owners:',
    '- alice',
    "- 'bob'",
    'tags:',
    '  "PII": "yes: \\u00e9 \\"quoted\\" \\\\ done"',
    '  Tier:',
    '  empty: ~',
    'schemas:',
    '  sales:',
    '    owners:',
    '      - a@corp.com',
    '      - b # a comment',
    '    tables:',
    '      orders: One row per order, {EUR} [net] #1 & more',
    '',
    '      items:   # trailing',
    '        description: http://example.com/a:b',
    '  # a comment out of column',
    '        columns:',
    '          id: Primary key',
    "          '010': quoted number-like key",
    '          "x y": ~',
    '          z:',
    '      refunds:',
    '  marketing:',
    '',
  ].join('\n');
  return [bench, rich, handWritten, ordinary, ...layouts];
}

/** A fixed-seed generator, so that a failing mutant reproduces. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) % n) as number;
  };
}

const SPACE_DAMAGE = [3, 4, 6, 7];

/** One indentation damage: tabs, a space more or less, a block of lines shifted, mixed. */
function mutate(text: string, pick: (n: number) => number): string {
  const spacesOnly = pick(2) === 0;
  const lines = text.split('\n');
  const rounds = spacesOnly ? 1 : 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    const candidates = lines.map((line, i) => (line.trim() === '' ? -1 : i)).filter((i) => i >= 0);
    if (candidates.length === 0) break;
    const i = candidates[pick(candidates.length)] as number;
    const line = lines[i] as string;
    const indent = /^ */.exec(line)?.[0].length ?? 0;
    const body = line.slice(indent);
    // Half the mutants keep to spaces, which leave more files valid and more for the fast way.
    switch (spacesOnly ? SPACE_DAMAGE[pick(SPACE_DAMAGE.length)] : pick(9)) {
      case 0: // a tab instead of the indentation
        lines[i] = `\t${body}`;
        break;
      case 1: // a tab before the indentation
        lines[i] = `\t${line}`;
        break;
      case 2: // a tab inside the indentation
        lines[i] = indent > 0 ? `${' '.repeat(indent - 1)}\t${body}` : `\t${body}`;
        break;
      case 3: // one space less
        if (indent > 0) lines[i] = line.slice(1);
        break;
      case 4: // one space more
        lines[i] = ` ${line}`;
        break;
      case 5: // a tab after the key's colon or the item's dash
        lines[i] = line.replace(/(:|-) /, '$1\t');
        break;
      case 6: {
        // a block of lines shifted together
        const shift = pick(2) === 0 ? -1 : 1;
        const count = 1 + pick(4);
        for (let j = i; j < Math.min(lines.length, i + count); j++) {
          const current = lines[j] as string;
          if (shift > 0) lines[j] = ` ${current}`;
          else if (current.startsWith(' ')) lines[j] = current.slice(1);
        }
        break;
      }
      case 7: // two spaces less or more (a sibling's or a parent's column)
        lines[i] = pick(2) === 0 ? line.slice(Math.min(2, indent)) : `  ${line}`;
        break;
      default: // trailing tab
        lines[i] = `${line}\t`;
    }
  }
  return lines.join('\n');
}

/** The failing mutants found while building the checks: kept as they were. */
const REGRESSIONS: readonly string[] = [
  // issue 22: the tab became indentation of the top level (the database's description)
  'service: n\ndatabase: mf_crit\nschemas:\n  sales:\n    tables:\n      orders:\n\t  description: tabbed\n',
  // issue 22: one space short under a table with columns (the schema's description)
  'service: n\ndatabase: mf_crit\nschemas:\n  sales:\n    tables:\n      orders:\n        columns:\n          id: x\n     description: misaligned\n',
  'a: b: c\n',
  'a:\n  b: x\n c: d\n',
  'a:\n\tb: c\n',
];

interface Tally {
  fast: number;
  rejected: number;
}

function compare(text: string, tally: Tally): void {
  const built = fastDocument(text, new LineCounter());
  const fast = built?.document;
  const reference = parseDocument(text, { uniqueKeys: false });
  if (reference.errors.length > 0) tally.rejected++;
  if (!fast) return;
  tally.fast++;
  assert.deepEqual(
    reference.errors.map((error) => error.message.split('\n')[0]),
    [],
    `the fast loader accepted a file the composer rejects:\n${JSON.stringify(text)}`,
  );
  assert.deepEqual(shape(fast.contents), shape(reference.contents), `a different structure for:\n${JSON.stringify(text)}`);
  assert.deepEqual(built?.data, reference.toJS(), `different data for:\n${JSON.stringify(text)}`);
}

describe('the fast loader agrees with the yaml composer', () => {
  const corpus = [...testFixtures(), ...examples(), ...generated()];

  it('on the valid corpora, which it takes by the fast way', () => {
    assert.ok(corpus.length >= 10, `a corpus of ${corpus.length} files`);
    const tally = { fast: 0, rejected: 0 };
    for (const text of corpus) compare(text, tally);
    assert.equal(tally.rejected, 0, 'the corpora are valid YAML');
    assert.ok(tally.fast >= 6, `${tally.fast} of ${corpus.length} files taken by the fast way`);
  });

  it('on the mutants that broke it before', () => {
    const tally = { fast: 0, rejected: 0 };
    for (const text of REGRESSIONS) compare(text, tally);
    assert.equal(tally.rejected, REGRESSIONS.length);
    assert.equal(tally.fast, 0);
  });

  it('on 2,500 files with damaged indentation (fixed seed)', () => {
    const pick = random(22);
    const tally = { fast: 0, rejected: 0 };
    const mutants = 2500;
    // Two in three from the files the fast way takes, where a wrong acceptance can happen.
    const fastable = corpus.filter((text) => fastDocument(text, new LineCounter()));
    for (let n = 0; n < mutants; n++) {
      const from = n % 3 === 0 ? corpus : fastable;
      compare(mutate(from[Math.floor(n / 3) % from.length] as string, pick), tally);
    }
    // Not vacuous: many mutants are refused by the composer, many others still taken fast.
    assert.ok(tally.rejected > mutants / 4, `${tally.rejected} mutants rejected`);
    assert.ok(tally.fast > mutants / 10, `${tally.fast} mutants taken by the fast way`);
  });
});
