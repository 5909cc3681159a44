import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Capabilities, Connector } from './connector.js';
import type { ProjectConfig } from './config.js';
import { walkDesired, type DesiredState } from './desired.js';
import { ErrorList } from './errors.js';
import { formatAddress, type Level, type SourceLocation } from './model.js';
import { checkTagLimits } from './tag-limits.js';

/** The options of a connector that declares none. */
const NO_OPTIONS = { type: 'object', additionalProperties: false, properties: {} } as const;

// verbose: the errors carry their schema, which "did you mean" reads the allowed keys from.
const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const optionValidators = new WeakMap<object, ValidateFunction>();

function optionsValidator(schema: object): ValidateFunction {
  let validate = optionValidators.get(schema);
  if (!validate) optionValidators.set(schema, (validate = ajv.compile(schema)));
  return validate;
}

const pointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/** `services.<name>.options` against the connector's own schema, errors located in metaform.yaml. */
function validateOptions(config: ProjectConfig, name: string, options: object, connector: Connector, errors: ErrorList): void {
  const schema = connector.optionsSchema ?? NO_OPTIONS;
  const validate = optionsValidator(schema);
  if (validate(options)) return;
  const base = `/services/${pointer(name)}/options`;
  const takesNone = Object.keys((schema as { properties?: object }).properties ?? {}).length === 0;
  for (const error of validate.errors ?? []) {
    if (takesNone && error.keyword === 'additionalProperties') {
      const key = String(error.params['additionalProperty']);
      errors.add(
        `unknown key "${key}" in services.${name}.options: ${connector.displayName} (${connector.type}) takes no options`,
        config.file.locate(['services', name, 'options', key], true),
        'remove it',
      );
      continue;
    }
    const located: ErrorObject = { ...error, instancePath: base + error.instancePath };
    errors.errors.push(...config.file.schemaErrors([located]));
  }
}

/**
 * `services.<name>.connection` against the settings its connector knows: a port of "abc" must not
 * reach a driver, which would dial another port, or never answer. Located at the value's line
 * (where `${VAR}` is written); a service reading an unset variable is reported when it connects.
 */
function validateConnection(config: ProjectConfig, name: string, connector: Connector, errors: ErrorList): void {
  const entry = config.services.get(name);
  if (!connector.connectionSchema || !entry || entry.missingVariables.length > 0) return;
  const validate = optionsValidator(connector.connectionSchema);
  if (validate(entry.config.connection)) return;
  const properties = (connector.connectionSchema as { properties?: Record<string, { description?: string }> }).properties ?? {};
  const reported = new Set<string>();
  for (const error of validate.errors ?? []) {
    const key = error.instancePath.split('/')[1]?.replaceAll('~1', '/').replaceAll('~0', '~');
    if (key === undefined || reported.has(key)) continue;
    reported.add(key);
    const value = entry.config.connection[key];
    const written = config.file.locate(['services', name, 'connection', key]);
    errors.add(
      `services.${name}.connection.${key} is ${JSON.stringify(value)}: ${connector.displayName} needs ${properties[key]?.description ?? 'another value'}`,
      written,
      'fix the value in metaform.yaml, or the environment variable it reads',
    );
  }
}

type CapabilityName = 'description' | 'owner' | 'tags';

export function supports(capabilities: Capabilities, property: CapabilityName, level: Level): boolean {
  return capabilities[property].includes(level) || (capabilities.serverDependent?.[property]?.includes(level) ?? false);
}

function supportedLevels(capabilities: Capabilities, property: CapabilityName): string {
  const levels = [...capabilities[property], ...(capabilities.serverDependent?.[property] ?? [])];
  return levels.length ? levels.join(', ') : 'no level';
}

/**
 * Checks what needs no connection: every service's type is known, its options are the ones its
 * connector takes, and every property the YAML
 * sets is one its system supports at that level, with an owner count the engine allows.
 */
export function validateCapabilities(
  config: ProjectConfig,
  desired: DesiredState,
  connectorFor: (type: string) => Connector | undefined,
): void {
  const errors = new ErrorList();
  for (const [name, entry] of config.services) {
    const connector = connectorFor(entry.config.type);
    if (!connector) {
      errors.add(`service ${name}: unknown type "${entry.config.type}"`, entry.location, 'see the capability table in the README for the supported systems');
      continue;
    }
    validateOptions(config, name, entry.config.options, connector, errors);
    validateConnection(config, name, connector, errors);
    for (const object of walkDesired(desired.get(name) ?? new Map())) {
      const address = formatAddress(name, object.path);
      const system = `${connector.displayName} (${connector.type})`;
      const check = (property: CapabilityName, at: { line: number; col: number; file: string }) => {
        if (!supports(connector.capabilities, property, object.level))
          errors.add(
            `${system} does not support ${property} on a ${object.level} (${address})${connector.capabilities.unsupported?.[property] ? `: ${connector.capabilities.unsupported[property]}` : ''}`,
            at,
            `${connector.type} supports ${property} on: ${supportedLevels(connector.capabilities, property)}`,
          );
        return supports(connector.capabilities, property, object.level);
      };
      if (object.description && check('description', object.description.at)) checkDescriptionBytes(connector, address, object.description, errors);
      if (object.tags && check('tags', [...object.tags.values()][0]?.at ?? object.declaredAt)) checkTagLimits(connector, entry.config, object, errors);
      if (object.owners && check('owner', object.owners.at)) {
        const owners = object.owners.value;
        const { maxOwners, ownerRemovable } = connector.capabilities;
        if (owners.length > maxOwners)
          errors.add(
            `${address} lists ${owners.length} owners; ${system} allows ${maxOwners} per ${object.level}`,
            object.owners.at,
            'keep one owner',
          );
        if (owners.length === 0 && !ownerRemovable)
          errors.add(
            `${address} has an empty owner list; a ${object.level} in ${system} always has an owner`,
            object.owners.at,
            'name the new owner, or remove `owners` to leave it unmanaged',
          );
      }
    }
  }
  errors.throwIfAny();
}

/** A description longer than the engine stores (SQL Server: 7,500 bytes of nvarchar). */
function checkDescriptionBytes(connector: Connector, address: string, description: { value: string | null; at: SourceLocation }, errors: ErrorList): void {
  const limit = connector.capabilities.descriptionBytes;
  if (!limit || description.value === null) return;
  const bytes = Buffer.byteLength(description.value, limit.encoding);
  if (bytes > limit.limit)
    errors.add(
      `the description of ${address} is ${bytes} bytes as ${limit.encoding === 'utf16le' ? 'UTF-16' : 'UTF-8'}; ${connector.displayName} stores at most ${limit.limit}`,
      description.at,
      'shorten it',
    );
}
