import type { Change, RenderResult } from '../../core/model.js';

/** What rendering one change gives: its statements, or the reason it cannot be applied. */
export type RenderedChange = { statements: string[] } | { skip: string };

/** The common case: every change is its own operation. */
export function renderEachChange(changes: readonly Change[], render: (change: Change) => RenderedChange): RenderResult {
  const result: RenderResult = { operations: [], skipped: [] };
  for (const change of changes) {
    const rendered = render(change);
    if ('skip' in rendered) result.skipped.push({ changeId: change.id, reason: rendered.skip });
    else
      result.operations.push({
        id: change.id,
        service: change.service,
        database: change.path[0] ?? '',
        changeIds: [change.id],
        statements: rendered.statements,
      });
  }
  return result;
}
