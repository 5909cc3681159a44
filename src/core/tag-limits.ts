import type { Connector, ServiceConfig } from './connector.js';
import type { DesiredObject } from './desired.js';
import type { ErrorList } from './errors.js';
import { formatAddress } from './model.js';

/**
 * A system's tag rules that need no connection: the most tags one object may carry, the longest
 * value, and (systems whose tag keys are identifiers) the spelling a key must have, so that the
 * key read back from the source is the key written in YAML.
 */
export function checkTagLimits(connector: Connector, service: ServiceConfig, object: DesiredObject, errors: ErrorList): void {
  if (!object.tags) return;
  const limits = connector.capabilities.tagLimits;
  const address = formatAddress(service.name, object.path);
  const system = connector.displayName;
  let set = 0;
  // The key each YAML key is stored as: two YAML keys stored as one are ambiguous.
  const stored = new Map<string, string>();
  for (const [key, { value, at }] of object.tags) {
    if (value !== null) {
      const problem = connector.checkTagValue?.(key, value);
      if (problem) errors.add(`${problem.error} (on ${address})`, at, problem.hint ?? 'write the value as the system allows it');
    }
    if (value !== null) set++;
    if (value !== null && limits?.valueLength !== undefined && [...value].length > limits.valueLength)
      errors.add(
        `tag ${key} on ${address} is ${[...value].length} characters long; ${system} allows at most ${limits.valueLength} in a tag value`,
        at,
        `shorten it to ${limits.valueLength} characters`,
      );
    const canonical = connector.canonicalTagKey?.(key, service);
    if (canonical === undefined) continue;
    const as = typeof canonical === 'string' ? canonical : canonical.canonical;
    const other = as === undefined ? undefined : stored.get(as);
    if (as !== undefined && other !== undefined && other !== key)
      errors.add(`ambiguous tag ${as} on ${address}: the keys ${other} and ${key} are one ${system} tag`, at, 'keep one of them');
    else if (as !== undefined) stored.set(as, key);
    if (typeof canonical !== 'string') errors.add(`${canonical.error} (on ${address})`, at, canonical.hint ?? 'write the key as the system allows it');
    else if (canonical !== key) errors.add(`tag key ${key} on ${address} names the tag ${canonical} (${system} folds unquoted names to upper case)`, at, `write it as ${canonical}`);
  }
  // With prune on, the YAML map is the object's whole tag set; otherwise other tags may add to it at the source.
  if (limits?.perObject !== undefined && set > limits.perObject) {
    const first = [...object.tags.values()][0];
    errors.add(
      `${address} has ${set} tags; ${system} allows at most ${limits.perObject} on one object`,
      first?.at ?? object.declaredAt,
      `keep at most ${limits.perObject}`,
    );
  }
}
