import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';

/** The folder with the JSON Schemas users point their editors at (src/ and dist/ are siblings). */
export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));

const ajv = new Ajv({ allErrors: true, allowUnionTypes: true, strict: true, verbose: true });
const compiled = new Map<string, ValidateFunction>();

export type SchemaName = 'config' | 'metadata' | 'plan';

export function schemaValidator(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    const schema = JSON.parse(readFileSync(`${SCHEMA_DIR}${name}.schema.json`, 'utf8')) as object;
    validate = ajv.compile(schema);
    compiled.set(name, validate);
  }
  return validate;
}
