/**
 * SQL Server's catalog as the security model sees it: logins at the server; per database its
 * principals (users and roles, with role membership), schemas, objects (tables and views) with
 * their columns, extended properties and permissions. The kit's catalog (kit/catalog.ts) keeps one
 * comment and one owner per object by name; SQL Server keys everything by id
 * (sys.extended_properties.major_id / minor_id, sys.objects.principal_id NULL = "owned by the
 * schema owner"), holds any number of named properties per object, and grants permissions on
 * schemas and objects, so it is modelled here instead.
 * Docs: https://learn.microsoft.com/sql/relational-databases/system-catalog-views/sys-objects-transact-sql ,
 * sys-schemas-transact-sql, sys-columns-transact-sql, sys-database-principals-transact-sql,
 * extended-properties-catalog-views-sys-extended-properties, sys-databases-transact-sql.
 */

export interface Login {
  name: string;
  password: string;
  /** Stands for the login's security identifier (sys.databases.owner_sid, SUSER_SNAME). */
  sid: number;
  sysadmin: boolean;
  /** Logins this one may impersonate (GRANT IMPERSONATE ON LOGIN::x). */
  impersonate: Set<string>;
}

export interface Principal {
  principal_id: number;
  name: string;
  /** S = SQL user, R = database role (sys.database_principals.type). */
  type: 'S' | 'R';
  /** The login a user is mapped to (by name), undefined for roles and users WITHOUT LOGIN. */
  login?: string;
}

export interface Schema {
  schema_id: number;
  name: string;
  principal_id: number;
}

export interface SqlObject {
  object_id: number;
  schema_id: number;
  name: string;
  /** U = user table, V = view (sys.objects.type). */
  type: 'U' | 'V';
  /** NULL: owned by the schema's owner (sys.objects.principal_id). */
  principal_id: number | null;
  columns: { column_id: number; name: string }[];
}

/** sys.extended_properties: class 0 database, 1 object or column, 3 schema. */
export interface ExtendedProperty {
  class: 0 | 1 | 3;
  major_id: number;
  minor_id: number;
  name: string;
  value: string | number | null;
}

export type SecurableClass = 'DATABASE' | 'SCHEMA' | 'OBJECT' | 'USER' | 'ROLE';

export interface Grant {
  permission: string;
  class: SecurableClass;
  /** 0 for the database; else the schema, object or principal id. */
  major_id: number;
  grantee: number;
}

export interface Database {
  database_id: number;
  name: string;
  owner_sid: number;
  collation: string;
  principals: Map<number, Principal>;
  /** role principal_id -> member principal_ids */
  members: Map<number, Set<number>>;
  schemas: Map<number, Schema>;
  objects: Map<number, SqlObject>;
  /** schema_id + folded name -> object_id (names are unique per schema under the collation). */
  objectIndex: Map<string, number>;
  /** propertyKey() -> property: one value per (class, major_id, minor_id, name). */
  properties: Map<string, ExtendedProperty>;
  grants: Grant[];
  nextId: number;
}

/** Fixed ids every database has (sys.database_principals, sys.schemas). */
export const DBO = 1;
export const PUBLIC = 0;
export const DB_OWNER = 16384;
export const DB_DDLADMIN = 16387;

/** Whether names compare case-insensitively under a collation (_CI_ in its name; _BIN sorts by code point). */
export function isCaseInsensitive(collation: string): boolean {
  return /_CI(_|$)/i.test(collation);
}

export function foldFor(collation: string): (name: string) => string {
  return isCaseInsensitive(collation) ? (name) => name.toLowerCase() : (name) => name;
}

export function newDatabase(database_id: number, name: string, owner_sid: number, collation: string): Database {
  const principals = new Map<number, Principal>([
    [PUBLIC, { principal_id: PUBLIC, name: 'public', type: 'R' }],
    [DBO, { principal_id: DBO, name: 'dbo', type: 'S' }],
    [2, { principal_id: 2, name: 'guest', type: 'S' }],
    [3, { principal_id: 3, name: 'INFORMATION_SCHEMA', type: 'S' }],
    [4, { principal_id: 4, name: 'sys', type: 'S' }],
    [DB_OWNER, { principal_id: DB_OWNER, name: 'db_owner', type: 'R' }],
    [DB_DDLADMIN, { principal_id: DB_DDLADMIN, name: 'db_ddladmin', type: 'R' }],
  ]);
  const schemas = new Map<number, Schema>([
    [1, { schema_id: 1, name: 'dbo', principal_id: DBO }],
    [2, { schema_id: 2, name: 'guest', principal_id: 2 }],
    [3, { schema_id: 3, name: 'INFORMATION_SCHEMA', principal_id: 3 }],
    [4, { schema_id: 4, name: 'sys', principal_id: 4 }],
    [DB_OWNER, { schema_id: DB_OWNER, name: 'db_owner', principal_id: DB_OWNER }],
  ]);
  return { database_id, name, owner_sid, collation, principals, members: new Map(), schemas, objects: new Map(), objectIndex: new Map(), properties: new Map(), grants: [], nextId: 1000 };
}

export function findByName<T extends { name: string }>(items: Iterable<T>, name: string, fold: (name: string) => string): T | undefined {
  const wanted = fold(name);
  for (const item of items) if (fold(item.name) === wanted) return item;
  return undefined;
}

export function objectKey(schema_id: number, foldedName: string): string {
  return `${schema_id}\u0000${foldedName}`;
}

export function propertyKey(target: { class: number; major_id: number; minor_id: number }, foldedName: string): string {
  return `${target.class}:${target.major_id}:${target.minor_id}:${foldedName}`;
}
