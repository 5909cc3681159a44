/**
 * The three-way drift report (YAML, source, OpenMetadata) in text, JSON and Markdown, line by
 * line. Every value and name passes through escapeControls, as in the plan reports: catalog text
 * is written by anyone with edit rights.
 */
import type { Level } from '../core/model.js';
import type { ThreeWayRow } from '../openmetadata/drift.js';
import type { Colors } from './style.js';
import { escapeControls, show } from './values.js';
import { markdownCell as cell } from './markdown.js';

/** An object the YAML names that one side lacks. */
export interface ThreeWayMissing {
  address: string;
  level: Level;
  side: 'source' | 'catalog';
}

export interface ThreeWayService {
  service: string;
  rows: ThreeWayRow[];
  missing: ThreeWayMissing[];
}

export interface ThreeWayReport {
  /** The catalog's server, for the heading. */
  catalog: string;
  services: ThreeWayService[];
}

export function threeWayHasDrift(report: ThreeWayReport): boolean {
  return report.services.some((service) => service.rows.length > 0 || service.missing.length > 0);
}

function counts(report: ThreeWayReport): { rows: number; source: number; catalog: number; missing: number } {
  const total = { rows: 0, source: 0, catalog: 0, missing: 0 };
  for (const service of report.services) {
    total.rows += service.rows.length;
    total.missing += service.missing.length;
    for (const row of service.rows) {
      if (row.differs.includes('source')) total.source++;
      if (row.differs.includes('catalog')) total.catalog++;
    }
  }
  return total;
}

function propertyLabel(row: ThreeWayRow): string {
  return row.property === 'tag' ? `tag ${row.key ?? ''}` : row.property;
}

function lastChange(row: ThreeWayRow): string | undefined {
  const last = row.catalogLastChange;
  if (!last?.changedBy) return undefined;
  const when = last.changedAt !== undefined ? ` at ${new Date(last.changedAt).toISOString()}` : '';
  const how = last.changeSource ? ` (${last.changeSource})` : last.inferred ? ' (last updater of the entity)' : '';
  return `${last.changedBy}${how}${when}`;
}

function summaryLine(report: ThreeWayReport): string {
  const total = counts(report);
  if (total.rows === 0 && total.missing === 0) return 'No drift: the YAML, the source and the catalog agree.';
  const missing = total.missing > 0 ? `; ${total.missing} object${total.missing === 1 ? '' : 's'} missing` : '';
  return `Drift: ${total.rows} ${total.rows === 1 ? 'property differs' : 'properties differ'} (source ${total.source}, catalog ${total.catalog})${missing}.`;
}

export function* threeWayTextLines(report: ThreeWayReport, colors: Colors): Generator<string> {
  yield `Three-way drift: YAML, source and OpenMetadata (${escapeControls(report.catalog)})`;
  for (const service of report.services) {
    for (const missing of service.missing)
      yield `${colors.red('!')} ${escapeControls(missing.address)}: ${missing.level} named in the YAML is missing from the ${missing.side === 'source' ? 'source' : 'catalog'}`;
    for (const row of service.rows) {
      yield `${colors.yellow('~')} ${escapeControls(row.address)} ${escapeControls(propertyLabel(row))}: differs in ${row.differs.join(' and ')}`;
      const mark = (side: 'source' | 'catalog') => (row.differs.includes(side) ? colors.red(' (differs)') : '');
      yield `      yaml:    ${show(row.yaml)}`;
      yield `      source:  ${show(row.source)}${mark('source')}`;
      const last = lastChange(row);
      yield `      catalog: ${show(row.catalog)}${mark('catalog')}${last ? colors.dim(`  last changed by ${escapeControls(last)}`) : ''}`;
    }
  }
  yield '';
  yield summaryLine(report);
}

/** One JSON document, one line per row (a 130,000-table drift stays greppable and streamable). */
export function* threeWayJsonLines(report: ThreeWayReport): Generator<string> {
  const total = counts(report);
  yield '{';
  yield `  "threeWay": true,`;
  yield `  "catalog": ${JSON.stringify(report.catalog)},`;
  yield `  "summary": ${JSON.stringify({ drift: total.rows + total.missing > 0, properties: total.rows, source: total.source, catalog: total.catalog, missing: total.missing })},`;
  yield '  "services": [';
  for (let index = 0; index < report.services.length; index++) {
    const service = report.services[index] as ThreeWayService;
    yield '    {';
    yield `      "service": ${JSON.stringify(service.service)},`;
    yield* arrayLines('missing', service.missing, ',');
    yield* arrayLines('rows', service.rows, '');
    yield `    }${index < report.services.length - 1 ? ',' : ''}`;
  }
  yield '  ]';
  yield '}';
}

function* arrayLines(name: string, items: readonly unknown[], comma: string): Generator<string> {
  if (items.length === 0) {
    yield `      ${JSON.stringify(name)}: []${comma}`;
    return;
  }
  yield `      ${JSON.stringify(name)}: [`;
  for (let item = 0; item < items.length; item++) yield `        ${JSON.stringify(items[item])}${item < items.length - 1 ? ',' : ''}`;
  yield `      ]${comma}`;
}


function code(text: string): string {
  return `\`${escapeControls(text).replaceAll('`', "'").replaceAll('|', '\\|')}\``;
}

export function* threeWayMarkdownLines(report: ThreeWayReport): Generator<string> {
  yield '### metaform drift report (YAML, source, OpenMetadata)';
  yield '';
  const total = counts(report);
  if (total.rows === 0 && total.missing === 0) {
    yield summaryLine(report);
    return;
  }
  yield summaryLine(report);
  for (const service of report.services) {
    if (service.rows.length === 0 && service.missing.length === 0) continue;
    yield '';
    yield `#### ${cell(service.service)}`;
    yield '';
    for (const missing of service.missing) yield `- ⚠️ ${code(missing.address)}: ${missing.level} missing from the ${missing.side}`;
    if (service.missing.length > 0) yield '';
    if (service.rows.length === 0) continue;
    yield '| object | property | YAML | source | catalog | differs | catalog last changed by |';
    yield '|---|---|---|---|---|---|---|';
    for (const row of service.rows) {
      const mark = (side: 'source' | 'catalog', value: string | null) => (row.differs.includes(side) ? `**${cell(value)}**` : cell(value));
      yield `| ${code(row.address)} | ${cell(propertyLabel(row))} | ${cell(row.yaml)} | ${mark('source', row.source)} | ${mark('catalog', row.catalog)} | ${row.differs.join(', ')} | ${cell(lastChange(row) ?? null)} |`;
    }
  }
}
