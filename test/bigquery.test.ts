// The BigQuery suites live in test/connectors/bigquery/ (ready for the shared contract suite);
// `npm test` runs test/*.test.ts, so this file brings them in.
import './connectors/bigquery/end-to-end.test.js';
import './connectors/bigquery/dialect.test.js';
