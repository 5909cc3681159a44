/**
 * The hidden marker that identifies the action's comments and issues: an HTML comment on the
 * first line holding JSON. `<` and `>` are written as JSON escapes, so no value can end the HTML
 * comment early.
 */
export type MarkerKind = 'plan' | 'apply' | 'drift';

export interface PlanMarker {
  project: string;
  target: string;
  /** The `label` input, when set. */
  label?: string;
  /** The pull request's head commit that was planned. */
  head?: string;
  hash: string;
  truncated: boolean;
  summary: { add: number; update: number; remove: number; skipped: number };
  /** service -> hash of its part of the plan. */
  services: Record<string, string>;
  /** Short digests of each change (with its statements), for plans small enough to list them. */
  digests?: string[];
}

export interface ApplyMarker {
  project: string;
  target: string;
  label?: string;
  outcome?: 'succeeded' | 'failed' | 'skipped';
}

export interface DriftMarker {
  project: string;
  service: string;
  label?: string;
}

interface Markers {
  plan: PlanMarker;
  apply: ApplyMarker;
  drift: DriftMarker;
}

const PREFIX = '<!-- metaform:';

export function writeMarker<K extends MarkerKind>(kind: K, data: Markers[K]): string {
  const json = JSON.stringify(data).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e');
  return `${PREFIX}${kind} ${json} -->`;
}

/** The marker of this kind at the start of a body, or undefined. */
export function readMarker<K extends MarkerKind>(kind: K, body: string): Markers[K] | undefined {
  const start = `${PREFIX}${kind} `;
  if (!body.startsWith(start)) return undefined;
  const end = body.indexOf(' -->', start.length);
  if (end < 0) return undefined;
  try {
    const data = JSON.parse(body.slice(start.length, end)) as unknown;
    return typeof data === 'object' && data !== null ? (data as Markers[K]) : undefined;
  } catch {
    return undefined;
  }
}
