import type { Connector } from './types.js';
import { postgresConnector } from './postgres/index.js';
import { redshiftConnector } from './redshift/index.js';
import { clickhouseConnector } from './clickhouse/index.js';
import { mysqlConnector } from './mysql/index.js';
import { snowflakeConnector } from './snowflake/index.js';
import { databricksConnector, unityCatalogConnector } from './databricks/index.js';
import { athenaConnector } from './athena/index.js';
import { bigQueryConnector } from './bigquery/index.js';
import { oracleConnector } from './oracle/index.js';
import { mssqlConnector } from './mssql/index.js';

/** Every system metaform knows, by its `type` in metaform.yaml. Adding one is adding a line. */
export const connectors: ReadonlyMap<string, Connector> = new Map(
  [
    postgresConnector,
    redshiftConnector,
    clickhouseConnector,
    mysqlConnector,
    snowflakeConnector,
    databricksConnector,
    unityCatalogConnector,
    athenaConnector,
    bigQueryConnector,
    oracleConnector,
    mssqlConnector,
  ].map((connector) => [connector.type, connector]),
);

export function connectorFor(type: string): Connector | undefined {
  return connectors.get(type);
}
