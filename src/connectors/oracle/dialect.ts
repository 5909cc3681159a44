import type { Change, CatalogSnapshot, RenderResult } from '../../core/model.js';
import { findLive } from '../../core/model.js';
import { renderEachChange, type RenderedChange } from '../shared/render.js';
import type { Dialect } from '../types.js';
import { storedName } from './names.js';

/** COMMENTS in ALL_TAB_COMMENTS / ALL_COL_COMMENTS is VARCHAR2(4000): bytes of the database character set (AL32UTF8). */
export const ORACLE_COMMENT_BYTES = 4000;

/**
 * Oracle text literals: '...' with '' for a quote; a backslash is an ordinary character
 * (SQL Language Reference, "Text Literals"). The empty string is NULL, so `IS ''` removes a
 * comment, as the COMMENT page says.
 */
export function quoteOracleLiteral(value: string | null): string {
  return `'${(value ?? '').replaceAll("'", "''")}'`;
}

/** A stored name as a quoted identifier. Oracle names cannot hold a double quote, so none is escaped. */
export function quoteOracleIdentifier(stored: string): string {
  if (stored.includes('"') || stored.includes('\0') || stored === '') throw new Error(`"${stored}" cannot be an Oracle identifier (no double quotes, no NUL, not empty)`);
  return `"${stored}"`;
}

export const oracleDialect: Dialect = {
  quoteIdentifier: (name) => quoteOracleIdentifier(storedName(name)),
  quoteLiteral: quoteOracleLiteral,
  // path below the database: [schema (owner), table, column]
  qualifiedName: (path) => path.map((part) => quoteOracleIdentifier(storedName(part))).join('.'),
};

/** Why a description cannot be written as asked, or undefined. */
export function descriptionProblem(text: string | null): string | undefined {
  if (text === null) return undefined;
  if (text.includes('\0')) return 'Oracle comments cannot be written with a NUL character through a text literal';
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > ORACLE_COMMENT_BYTES) return `the comment is ${bytes} bytes in UTF-8; Oracle keeps at most ${ORACLE_COMMENT_BYTES}`;
  return undefined;
}

/** Pure: COMMENT ON TABLE / MATERIALIZED VIEW / COLUMN, each change its own statement (DDL commits on its own). */
export function renderOracle(changes: readonly Change[], snapshot: CatalogSnapshot): RenderResult {
  return renderEachChange(changes, (change): RenderedChange => {
    if (change.property !== 'description') return { skip: `Oracle has no ${change.property} on a ${change.level}` };
    const problem = descriptionProblem(change.after);
    if (problem) return { skip: problem };
    const [, ...below] = change.path;
    const text = quoteOracleLiteral(change.after);
    if (change.level === 'table') {
      const kind = findLive(snapshot, change.path)?.facts?.['kind'];
      const keyword = kind === 'MATERIALIZED VIEW' ? 'MATERIALIZED VIEW' : 'TABLE';
      return { statements: [`COMMENT ON ${keyword} ${oracleDialect.qualifiedName(below)} IS ${text}`] };
    }
    if (change.level === 'column') return { statements: [`COMMENT ON COLUMN ${oracleDialect.qualifiedName(below)} IS ${text}`] };
    return { skip: `Oracle has no comment on a ${change.level}` };
  });
}
