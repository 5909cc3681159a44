import type { LiveObject } from '../../core/model.js';
import { liveChild, newLiveObject } from '../../core/model.js';
import { labelsOf, LiteralError, parseOptionValue } from './literal.js';
import { quoteBigQueryIdentifier, quoteBigQueryLiteral } from './literal.js';

/** Runs one query, rows as objects keyed by column name. */
export type Query = (sql: string) => Promise<Record<string, unknown>[]>;

/** `US` -> `region-us`: the qualifier of a region's INFORMATION_SCHEMA views. */
export function regionQualifier(location: string): string {
  return `region-${location.toLowerCase()}`;
}

/**
 * The catalog queries of one project in one region: five, whatever the number of datasets,
 * tables and columns (each may come back in several result pages of about 10 MB). The
 * region-qualified views span every dataset of the project in that region
 * (https://cloud.google.com/bigquery/docs/information-schema-intro#region_qualifier):
 * SCHEMATA and TABLES list the objects (an object without options has no *_OPTIONS row),
 * SCHEMATA_OPTIONS and TABLE_OPTIONS carry descriptions and labels as GoogleSQL literals,
 * COLUMN_FIELD_PATHS has one row per column and nested field with its description.
 */
export function catalogQueries(project: string, location: string, datasets: readonly string[] | undefined): string[] {
  const views = `${quoteBigQueryIdentifier(project)}.${quoteBigQueryIdentifier(regionQualifier(location))}.INFORMATION_SCHEMA`;
  const only = (column: string, glue: 'WHERE' | 'AND') => (datasets === undefined ? '' : ` ${glue} ${column} IN (${datasets.map(quoteBigQueryLiteral).join(', ')})`);
  const options = "option_name IN ('description', 'labels')";
  return [
    `SELECT schema_name FROM ${views}.SCHEMATA${only('schema_name', 'WHERE')}`,
    `SELECT schema_name, option_name, option_value FROM ${views}.SCHEMATA_OPTIONS WHERE ${options}${only('schema_name', 'AND')}`,
    `SELECT table_schema, table_name, table_type FROM ${views}.TABLES${only('table_schema', 'WHERE')}`,
    `SELECT table_schema, table_name, option_name, option_value FROM ${views}.TABLE_OPTIONS WHERE ${options}${only('table_schema', 'AND')}`,
    `SELECT table_schema, table_name, field_path, description FROM ${views}.COLUMN_FIELD_PATHS${only('table_schema', 'WHERE')}`,
  ];
}

const text = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

/** An option row's value, read as the literal it is; the error names the object. */
function optionOf(row: Record<string, unknown>, where: string): { description?: string | null; labels?: Record<string, string> } {
  const name = text(row['option_name']);
  try {
    const value = parseOptionValue(text(row['option_value']));
    if (name === 'description') return { description: value === null || value === '' ? null : String(value) };
    if (name === 'labels') return { labels: labelsOf(value) };
    return {};
  } catch (error) {
    if (error instanceof LiteralError) throw new LiteralError(`the ${name} option of ${where} could not be read: ${error.message}`);
    throw error;
  }
}

/** Reads one project in the five queries of catalogQueries; undefined when it has no dataset there. */
export async function readBigQueryProject(query: Query, project: string, location: string, datasets: readonly string[] | undefined): Promise<{ database: LiveObject; queries: number }> {
  const sql = catalogQueries(project, location, datasets);
  const results: Record<string, unknown>[][] = [];
  for (const statement of sql) results.push(await query(statement));
  const [schemaRows = [], schemaOptions = [], tableRows = [], tableOptions = [], fieldRows = []] = results;
  const database = newLiveObject('database', project);
  const datasetOf = (name: unknown) => {
    const dataset = liveChild(database, 'schema', text(name));
    if (dataset.tags === undefined) {
      dataset.tags = {};
      dataset.description = null;
    }
    return dataset;
  };
  const tableOf = (schema: unknown, name: unknown) => {
    const table = liveChild(datasetOf(schema), 'table', text(name));
    if (table.tags === undefined) {
      table.tags = {};
      table.description = null;
    }
    return table;
  };
  for (const row of schemaRows) datasetOf(row['schema_name']);
  for (const row of schemaOptions) {
    const dataset = datasetOf(row['schema_name']);
    Object.assign(dataset, rename(optionOf(row, `dataset ${project}.${dataset.name}`)));
  }
  for (const row of tableRows) tableOf(row['table_schema'], row['table_name']).facts = { tableType: text(row['table_type']) };
  for (const row of tableOptions) {
    const table = tableOf(row['table_schema'], row['table_name']);
    Object.assign(table, rename(optionOf(row, `table ${project}.${text(row['table_schema'])}.${table.name}`)));
  }
  for (const row of fieldRows) {
    const column = liveChild(tableOf(row['table_schema'], row['table_name']), 'column', text(row['field_path']));
    const description = row['description'];
    column.description = description === null || description === undefined || description === '' ? null : String(description);
  }
  return { database, queries: sql.length };
}

/** Labels are metaform's tags. */
function rename(option: { description?: string | null; labels?: Record<string, string> }): Partial<LiveObject> {
  return option.labels === undefined ? option : { tags: option.labels };
}
