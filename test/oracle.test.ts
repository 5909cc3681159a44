// npm test globs test/*.test.ts: the Oracle connector's tests live beside its source's name.
import './connectors/oracle/emulator.test.js';
import './connectors/oracle/end-to-end.test.js';
