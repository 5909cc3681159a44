// The mssql package ships no type declarations; client.ts types the part it uses (MssqlDriver).
declare module 'mssql';
