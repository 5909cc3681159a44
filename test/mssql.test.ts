// npm test runs test/*.test.ts: the SQL Server suite lives in test/connectors/mssql/ until the contract suite takes it in.
import './connectors/mssql/mssql.test.js';
