// The Athena connector's tests live in test/connectors/athena/ (where the contract suite will run
// them); `npm test` runs test/*.test.ts, so they are loaded from here.
import './connectors/athena/dialect.test.js';
import './connectors/athena/end-to-end.test.js';
