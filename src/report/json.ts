import type { Plan } from '../core/plan.js';
import { writeLines } from './stream.js';

/**
 * The plan as JSON, one line per change and per operation (the top level pretty-printed): a
 * 200,000-change plan stays a file a person can grep and git can diff, and is written line by
 * line instead of as one string.
 */
export function* planJsonLines(plan: Plan): Generator<string> {
  const entries = Object.entries(plan).filter(([, value]) => value !== undefined);
  yield '{';
  for (let index = 0; index < entries.length; index++) {
    const [key, value] = entries[index] as [string, unknown];
    const comma = index < entries.length - 1 ? ',' : '';
    const name = JSON.stringify(key);
    if (Array.isArray(value) && value.length > 0) {
      yield `  ${name}: [`;
      for (let item = 0; item < value.length; item++) yield `    ${JSON.stringify(value[item])}${item < value.length - 1 ? ',' : ''}`;
      yield `  ]${comma}`;
    } else if (key === 'server' && value && typeof value === 'object' && Object.keys(value).length > 0) {
      // One line per service: its databases' facts.
      const services = Object.entries(value);
      yield `  ${name}: {`;
      for (let item = 0; item < services.length; item++) {
        const [service, facts] = services[item] as [string, unknown];
        yield `    ${JSON.stringify(service)}: ${JSON.stringify(facts)}${item < services.length - 1 ? ',' : ''}`;
      }
      yield `  }${comma}`;
    } else yield `  ${name}: ${JSON.stringify(value, null, 2).replaceAll('\n', '\n  ')}${comma}`;
  }
  yield '}';
}

/** Streams planJsonLines to `stream` (which stays open). */
export function writePlanJson(plan: Plan, stream: NodeJS.WritableStream): Promise<void> {
  return writeLines(planJsonLines(plan), stream);
}
