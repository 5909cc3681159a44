/**
 * The Athena side of the end-to-end tests, in the shape a contract suite can take over: start
 * the emulator with a fixture, give the `connection:` and `options:` a metaform.yaml needs, read
 * and change what the source holds behind metaform's back.
 */
import { AthenaCatalogs } from '../../emulators/athena/engine.js';
import { METAFORM_ROLE_ACTIONS, startAthenaEmulator, type AthenaEmulator, type Principal } from '../../emulators/athena/server.js';

export interface AthenaTarget {
  emulator: AthenaEmulator;
  type: 'athena';
  /** database (data catalog) metaform's YAML names. */
  database: string;
  connection: Record<string, string | number>;
  options: Record<string, number>;
  /** The table's description as the source holds it (Parameters.comment). */
  tableDescription(schema: string, table: string): string | undefined;
  /** Changes a description behind metaform's back (a concurrent edit). */
  setTableDescription(schema: string, table: string, text: string): void;
  close(): Promise<void>;
}

/** The ordinary role metaform runs as, and one that may read but not alter tables. */
export const SERVICE_ROLE: Principal = { name: 'metaform-ci', accessKeyId: 'AKIAMETAFORMCI00001', secretAccessKey: 'ci/Secret+Key/never-printed', allow: METAFORM_ROLE_ACTIONS };
export const READ_ONLY_ROLE: Principal = {
  name: 'metaform-readonly',
  accessKeyId: 'AKIAMETAFORMRO00001',
  secretAccessKey: 'ro/Secret+Key/never-printed',
  allow: METAFORM_ROLE_ACTIONS.filter((action) => action !== 'glue:UpdateTable'),
};

/** Fixture: schema `sales` with tables, a view and an Iceberg table; `wide` with `wideTables` tables. */
export async function startAthenaTarget(wideTables = 0): Promise<AthenaTarget> {
  const catalogs = new AthenaCatalogs();
  const emulator = await startAthenaEmulator({ catalogs, principals: [SERVICE_ROLE, READ_ONLY_ROLE] });
  emulator.run('CREATE DATABASE sales');
  emulator.run("CREATE EXTERNAL TABLE sales.orders (id bigint COMMENT 'key', email string) COMMENT 'Old orders' PARTITIONED BY (day string) LOCATION 's3://data/orders/'");
  emulator.run("CREATE EXTERNAL TABLE sales.customers (id bigint) LOCATION 's3://data/customers/' TBLPROPERTIES ('classification' = 'parquet')");
  emulator.run('CREATE EXTERNAL TABLE sales.`select` (c int)');
  emulator.run('CREATE EXTERNAL TABLE sales.`_staging` (c int)');
  emulator.run("CREATE EXTERNAL TABLE sales.events (c int) TBLPROPERTIES ('table_type' = 'ICEBERG')");
  emulator.run('CREATE VIEW sales.v_orders AS SELECT id FROM sales.orders');
  emulator.run("CREATE DATABASE other COMMENT 'not managed'");
  if (wideTables > 0) {
    const wide = catalogs.addDatabase('awsdatacatalog', 'wide');
    for (let i = 0; i < wideTables; i++) catalogs.addTable(wide, `t${i}`, [{ Name: 'c', Type: 'int' }]);
  }
  return {
    emulator,
    type: 'athena',
    database: 'awsdatacatalog',
    connection: { ...emulator.connection, accessKeyId: SERVICE_ROLE.accessKeyId, secretAccessKey: SERVICE_ROLE.secretAccessKey, maxAttempts: 1 },
    options: { pollIntervalMs: 1 },
    tableDescription: (schema, table) => catalogs.table('awsdatacatalog', schema, table).Parameters['comment'],
    setTableDescription: (schema, table, text) => {
      catalogs.table('awsdatacatalog', schema, table).Parameters['comment'] = text;
    },
    close: () => emulator.close(),
  };
}
