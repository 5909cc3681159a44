/**
 * The emulator's answers against vendored copies of OpenMetadata's own JSON Schemas
 * (test/emulators/openmetadata/schemas, sources in SOURCES.md there): every EntityReference,
 * owner list, TagLabel and change summary it sends, on every endpoint metaform reads.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { manualTag, startOpenMetadataEmulator, type OpenMetadataEmulator } from './emulators/openmetadata/server.js';

const DIR = join(import.meta.dirname, 'emulators/openmetadata/schemas/type');
const load = (name: string) => JSON.parse(readFileSync(join(DIR, name), 'utf8')) as Record<string, unknown> & { properties?: Record<string, { enum?: string[] }> };

/**
 * Schemas database.json refers to that are not vendored, each accepted as anything: they type
 * fields the emulator does not send, except `serviceType`, `version` and `changeDescription`
 * (whose stored entityHistory.json predates changeSummary; the summary is checked on its own).
 */
const NOT_VENDORED: Record<string, string[]> = {
  'entity/services/databaseService.json': ['databaseServiceType'],
  'entity/data/table.json': ['profileSampleType', 'samplingMethodType'],
  'entity/services/connections/connectionBasicType.json': ['sampleDataStorageConfig'],
  'type/entityHistory.json': ['entityVersion', 'changeDescription'],
  'type/usageDetails.json': [],
  'type/votes.json': [],
  'type/lifeCycle.json': [],
  'type/assetCertification.json': [],
  'type/entityStatus.json': [],
};

function validators(): Record<'reference' | 'references' | 'label' | 'summary' | 'database', ValidateFunction> {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('utc-millisec', true);
  const tagLabel = load('tagLabel.json');
  // The stored copy predates labelType Generated, which the 1.13 schemas have (issue 18's audit).
  tagLabel.properties?.['labelType']?.enum?.push('Generated');
  for (const name of ['basic.json', 'entityReference.json', 'entityReferenceList.json', 'changeSummaryMap.json']) ajv.addSchema(load(name));
  ajv.addSchema(tagLabel);
  for (const [path, definitions] of Object.entries(NOT_VENDORED)) ajv.addSchema({ $id: `https://open-metadata.org/schema/${path}`, definitions: Object.fromEntries(definitions.map((name) => [name, {}])) });
  ajv.addSchema(JSON.parse(readFileSync(join(DIR, '../entity/data/database.json'), 'utf8')) as object);
  const get = (id: string) => ajv.getSchema(`https://open-metadata.org/schema/${id}`) as ValidateFunction;
  return { reference: get('type/entityReference.json'), references: get('type/entityReferenceList.json'), label: get('type/tagLabel.json'), summary: get('type/changeSummary.json'), database: get('entity/data/database.json') };
}

const REFERENCE_KEYS = new Set(['owner', 'service', 'database', 'databaseSchema', 'classification', 'parent']);

/** Every checked part of an answer, walked; a version history's JSON strings are parsed and walked too. */
function check(value: unknown, schemas: ReturnType<typeof validators>, where: string, problems: string[]): number {
  let checked = 0;
  const run = (validate: ValidateFunction, data: unknown, at: string) => {
    checked++;
    if (!validate(data)) problems.push(`${at}: ${JSON.stringify(validate.errors)}`);
  };
  if (Array.isArray(value)) value.forEach((item, i) => (checked += check(typeof item === 'string' && item.startsWith('{') ? JSON.parse(item) : item, schemas, `${where}[${i}]`, problems)));
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const at = `${where}.${key}`;
      if (key === 'owners') run(schemas.references, item, at);
      else if (REFERENCE_KEYS.has(key)) run(schemas.reference, item, at);
      else if (key === 'tags' && Array.isArray(item)) item.forEach((label, i) => run(schemas.label, label, `${at}[${i}]`));
      else if (key === 'changeSummary') {
        run(schemas.summary, item, at);
        continue; // its keys are field names, not entity properties
      }
      checked += check(item, schemas, at, problems);
    }
  }
  return checked;
}

describe('OpenMetadata emulator answers validate against the vendored JSON Schemas', () => {
  const schemas = validators();
  let emulator: OpenMetadataEmulator;
  before(async () => {
    emulator = await startOpenMetadataEmulator();
    emulator.addUser('jane', 'jane@corp.com', false, 'jane-token');
    emulator.addTeam('sales');
    emulator.addTag('Data', 'Contact');
    emulator.addTag('Data', 'Email', { parent: 'Data.Contact' });
    emulator.addEntity('database', 'shop', 'db', { owners: ['sales'] });
    emulator.addEntity('databaseSchema', 'shop.db', 'sales');
    emulator.addEntity('table', 'shop.db.sales', 'orders', {
      description: 'Orders',
      tags: [manualTag('Tier.Tier2')],
      columns: [{ name: 'id', tags: [{ tagFQN: 'PII.None', source: 'Classification', labelType: 'Generated', state: 'Suggested' }] }, { name: 'email', tags: [manualTag('Data.Contact.Email')] }],
    });
    const orders = emulator.entity('shop.db.sales.orders');
    const response = await fetch(`${emulator.url}/api/v1/tables/${orders?.id}`, {
      method: 'PATCH',
      headers: { authorization: 'Bearer jane-token', 'content-type': 'application/json-patch+json' },
      body: JSON.stringify([{ op: 'replace', path: '/description', value: 'Orders, edited' }, { op: 'add', path: '/owners', value: [{ id: emulator.users.get('jane')?.id, type: 'user' }] }]),
    });
    assert.equal(response.status, 200, await response.text());
  });
  after(() => emulator.close());

  it('on every endpoint metaform reads', async () => {
    const orders = emulator.entity('shop.db.sales.orders');
    const paths = [
      'databases?service=shop&fields=owners,tags&limit=10',
      'databaseSchemas?database=shop.db&fields=owners,tags&limit=10',
      'tables?databaseSchema=shop.db.sales&fields=columns,owners,tags&limit=10',
      'tables/name/shop.db.sales.orders?fields=columns,owners,tags',
      `tables/${orders?.id}/versions`,
      'tags/name/Data.Contact.Email',
      'classifications/name/PII',
    ];
    const problems: string[] = [];
    let checked = 0;
    for (const path of paths) {
      const response = await fetch(`${emulator.url}/api/v1/${path}`, { headers: { authorization: 'Bearer jane-token' } });
      assert.equal(response.status, 200, path);
      checked += check(await response.json(), schemas, path, problems);
    }
    assert.deepEqual(problems, []);
    assert.ok(checked > 30, `${checked} parts checked`);
  });

  it('databases as a whole, against entity/data/database.json (required service reference, no unknown field)', async () => {
    const response = await fetch(`${emulator.url}/api/v1/databases?service=shop&fields=owners,tags&limit=10`, { headers: { authorization: 'Bearer jane-token' } });
    const { data } = (await response.json()) as { data: unknown[] };
    assert.equal(data.length, 1);
    for (const database of data) assert.ok(schemas.database(database), JSON.stringify(schemas.database.errors));
    assert.equal(schemas.database({ id: randomUUID(), name: 'db' }), false, 'a database without its service reference is refused');
  });

  it('the check refuses what the schemas refuse', () => {
    const problems: string[] = [];
    check({ owners: [{ type: 'user' }], service: { id: 'not-a-uuid', type: 'databaseService' }, tags: [{ tagFQN: 'PII.None', source: 'Tag', labelType: 'Manual', state: 'Confirmed' }], changeDescription: { changeSummary: { description: { changeSource: 'ByHand' } } } }, schemas, 'bad', problems);
    assert.equal(problems.length, 4, problems.join('\n'));
  });
});
