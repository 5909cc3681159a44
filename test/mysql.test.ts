import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPlan, createPlan } from '../src/core/pipeline.js';
import { PlanMismatchError } from '../src/core/verify.js';
import { importService } from '../src/core/import.js';
import { loadProject } from '../src/core/project.js';
import { columnDefinitions, isStoredGenerated, modifiedColumns, restateWithComment, withJsonKeyword, withoutComment } from '../src/connectors/mysql/column-definition.js';
import { instantAlter, mysqlDialect, renderMysql } from '../src/connectors/mysql/dialect.js';
import type { CatalogSnapshot, Change, JsonValue } from '../src/core/model.js';
import { startMariadb, type TestMariadb } from './support/mariadb.js';
import { tempProject } from './support/project.js';
import { generatedStrings, HOSTILE_DESCRIPTIONS } from './support/strings.js';

/** Every kind of column the issue names, with quotes and backslashes in its literals. */
const TRICKY_TABLE = `(
  id int unsigned NOT NULL AUTO_INCREMENT COMMENT 'it''s \\\\ a "key"',
  name varchar(50) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL DEFAULT 'O''Brien \\\\ x',
  st enum('a''b','c,d','e\\\\f') DEFAULT 'a''b',
  tags set('x','y') NOT NULL DEFAULT 'x,y',
  created timestamp(3) NOT NULL DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3),
  base int NOT NULL DEFAULT 1,
  total decimal(10,2) GENERATED ALWAYS AS (base * 2) VIRTUAL,
  total2 int AS (base + 1) STORED COMMENT 'gen',
  hidden int DEFAULT 7 INVISIBLE,
  j json,
  expr_default varchar(36) DEFAULT uuid(),
  n float DEFAULT NULL COMMENT 'COMMENT ''inside'' \\\\',
  positive int CHECK (positive > 0),
  PRIMARY KEY (id)
) ENGINE=InnoDB COMMENT='tab\\\\le'`;
const TRICKY_COLUMNS = ['id', 'name', 'st', 'tags', 'created', 'base', 'total', 'total2', 'hidden', 'j', 'expr_default', 'n', 'positive'];

const SHOW_CREATE_SAMPLE = `CREATE TABLE \`t\` (
  \`id\` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT 'it''s \\\\ a "key"',
  \`we\`\`ird\` enum('a''b','c,d') DEFAULT 'a''b',
  \`j\` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(\`j\`)),
  \`c\` varchar(9) DEFAULT 'COMMENT ''x''',
  PRIMARY KEY (\`id\`)
) ENGINE=InnoDB COMMENT='x'`;

describe('MySQL column definitions', () => {
  const definitions = columnDefinitions(SHOW_CREATE_SAMPLE);
  it('finds each column line by name, backticks included, and nothing else', () => {
    assert.deepEqual([...definitions.keys()], ['id', 'we`ird', 'j', 'c']);
  });

  it('replaces, removes and adds only the COMMENT clause', () => {
    assert.deepEqual(restateWithComment(definitions.get('id') ?? '', "'new'"), { definition: '`id` int(10) unsigned NOT NULL AUTO_INCREMENT COMMENT \'new\'' });
    assert.deepEqual(restateWithComment(definitions.get('id') ?? '', null), { definition: '`id` int(10) unsigned NOT NULL AUTO_INCREMENT' });
    assert.deepEqual(restateWithComment(definitions.get('we`ird') ?? '', "'w'"), { definition: "`we``ird` enum('a''b','c,d') DEFAULT 'a''b' COMMENT 'w'" });
    assert.deepEqual(restateWithComment(definitions.get('c') ?? '', "'real'"), { definition: "`c` varchar(9) DEFAULT 'COMMENT ''x''' COMMENT 'real'" }, 'a COMMENT inside a literal is not the clause');
  });

  it('puts a new comment before a column CHECK, which MariaDB requires', () => {
    assert.deepEqual(restateWithComment(definitions.get('j') ?? '', "'doc'"), {
      definition: "`j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL COMMENT 'doc' CHECK (json_valid(`j`))",
    });
  });

  it('refuses what it cannot read instead of guessing', () => {
    const refused = restateWithComment("`x` int DEFAULT 'unterminated", "'c'");
    assert.ok('refused' in refused && /unterminated ' quote/.test(refused.refused));
  });

  it('reads back the definitions of an ALTER it wrote, and compares them without comments', () => {
    const statement = "ALTER TABLE `s`.`t` MODIFY COLUMN `a` int(11) DEFAULT 1 COMMENT 'x, y', MODIFY COLUMN `b` enum('1,2') DEFAULT NULL";
    assert.deepEqual([...modifiedColumns(statement)], [
      ['a', "`a` int(11) DEFAULT 1 COMMENT 'x, y'"],
      ['b', "`b` enum('1,2') DEFAULT NULL"],
    ]);
    assert.equal(withoutComment("`a` int(11) DEFAULT 1 COMMENT 'x, y'"), '`a` int(11) DEFAULT 1');
  });

  it('tells STORED generated columns from others, and MariaDB versions with ALGORITHM=INSTANT', () => {
    assert.equal(isStoredGenerated('`g` int(11) GENERATED ALWAYS AS (`b` + 1) STORED'), true);
    assert.equal(isStoredGenerated('`g` int GENERATED ALWAYS AS ((`b` + 1)) STORED NOT NULL'), true, 'MySQL 8 spelling');
    assert.equal(isStoredGenerated('`v` int(11) GENERATED ALWAYS AS (`b` * 2) VIRTUAL'), false);
    assert.equal(isStoredGenerated("`stored` varchar(9) DEFAULT 'STORED' COMMENT 'STORED'"), false, 'names and literals are not the keyword');
    assert.equal(instantAlter({ version: '10.11.19-MariaDB-0+deb12u1' }), true);
    assert.equal(instantAlter({ version: '11.4.2-MariaDB' }), true);
    assert.equal(instantAlter({ version: '10.2.44-MariaDB' }), false);
    assert.equal(instantAlter({ version: '8.0.36' }), false, 'MySQL keeps the definition check as its guard');
  });

  it('restates a MariaDB JSON column with the json keyword, and nothing else', () => {
    const json = '`j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`j`))';
    assert.equal(withJsonKeyword(json), '`j` json DEFAULT NULL');
    assert.equal(withJsonKeyword("`j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT '{}' COMMENT 'c' CHECK (json_valid(`j`))"), "`j` json NOT NULL DEFAULT '{}' COMMENT 'c'");
    assert.equal(withJsonKeyword('`j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin CHECK (json_valid(`j`))'), '`j` json');
    const other = '`j` longtext CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL CHECK (json_valid(`k`))';
    assert.equal(withJsonKeyword(other), other, 'a check on another column is not the JSON type');
    assert.equal(withJsonKeyword('`t` longtext DEFAULT NULL CHECK (`t` <> \'\')'), '`t` longtext DEFAULT NULL CHECK (`t` <> \'\')');
  });

  it('comments a schema only where the server has schema comments (MariaDB 10.5+), and says why otherwise', () => {
    const change: Change = {
      id: 'shop.default.db#description',
      service: 'shop',
      address: 'shop.default.db',
      path: ['default', 'db'],
      level: 'schema',
      property: 'description',
      action: 'add',
      before: null,
      after: "it's",
    };
    const snapshot = (server: Record<string, JsonValue>): CatalogSnapshot => ({ service: 'shop', databases: new Map(), server, queries: 0 });
    const mariadb = renderMysql([change], snapshot({ version: '10.11.19-MariaDB', schemaComments: true, commentCharset: 'utf8mb3' }));
    assert.deepEqual(mariadb.operations.map((operation) => operation.statements), [["ALTER DATABASE `db` COMMENT = 'it''s'"]]);
    const mysql = renderMysql([change], snapshot({ version: '8.0.36', schemaComments: false, commentCharset: 'utf8mb3' }));
    assert.equal(mysql.operations.length, 0);
    assert.equal(mysql.skipped[0]?.reason, '8.0.36 has no schema comments (MariaDB 10.5 and later have them)');
  });

  it('quotes literals for the session mode', () => {
    assert.equal(mysqlDialect({}).quoteLiteral("a'b\\c\0"), "'a''b\\\\c\\0'");
    assert.equal(mysqlDialect({ noBackslashEscapes: true }).quoteLiteral("a'b\\c"), "'a''b\\c'");
  });
});

describe('MySQL connector on MariaDB', () => {
  let db: TestMariadb | undefined;
  let skip: string | undefined;
  const bmpHostile = HOSTILE_DESCRIPTIONS.filter((text) => !/[\u{10000}-\u{10FFFF}]/u.test(text) && text.length <= 1024);
  const generated = generatedStrings(12, 5).map((text) => text.replace(/[\u{10000}-\u{10FFFF}]/gu, 'x'));

  before(async () => {
    const started = await startMariadb();
    if ('skip' in started) {
      skip = started.skip;
      return;
    }
    db = started;
    const q = (name: string) => `\`${db!.database}\`.\`${name.replaceAll('`', '``')}\``;
    await db.query(`CREATE TABLE ${q('tricky')} ${TRICKY_TABLE}`);
    await db.query(`CREATE TABLE ${q("Odd `name`. x")} (\`Mixed Case.Col "q"\` int, plain int) ENGINE=InnoDB`);
    await db.query(`CREATE TABLE ${q('wide')} (${generated.map((_, i) => `c${i} int`).join(', ')})`);
    await db.query(`CREATE VIEW ${q('v')} AS SELECT 1 AS one`);
  });
  after(() => db?.close());

  const project = (metadata: object) =>
    tempProject({ version: 1, services: { shop: { type: 'mysql', connection: { ...db!.connection } } } }, { 'metadata/shop.yaml': metadata });

  it('restates columns without changing anything but their comments, and converges', async (t) => {
    if (skip || !db) return t.skip(skip);
    const before = await db.showCreate('tricky');
    const columns = Object.fromEntries(TRICKY_COLUMNS.map((name, i) => [name, bmpHostile[i % bmpHostile.length]]));
    const dir = await project({
      service: 'shop',
      database: 'default',
      schemas: {
        [db.database]: {
          description: 'Shop schema',
          tables: {
            tricky: { description: HOSTILE_DESCRIPTIONS[1], columns },
            "Odd `name`. x": { description: bmpHostile.join('|').slice(0, 2048), columns: { 'Mixed Case.Col "q"': bmpHostile[0], plain: null } },
            wide: { columns: Object.fromEntries(generated.map((text, i) => [`c${i}`, text])) },
          },
        },
      },
    });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan, queries } = await createPlan(loaded);
      assert.equal(queries, 4 + 3, 'four catalog queries, then SHOW CREATE TABLE for the three tables whose columns change');
      assert.deepEqual(
        plan.changes.filter((change) => change.skipped).map((change) => [change.path[3], change.skipped]),
        [['total2', 'column not restated, to keep it intact: it is a STORED generated column, whose comment the server changes only by copying the whole table']],
      );
      const trickyOps = plan.operations.filter((operation) => operation.statements[0]?.includes('`tricky` MODIFY COLUMN'));
      assert.equal(trickyOps.length, 1, 'all column comments of a table in one ALTER TABLE');
      assert.match(trickyOps[0]?.statements[0] ?? '', /, ALGORITHM=INSTANT$/, 'MariaDB refuses rather than rebuilds the table');
      const report = await applyPlan(loaded, plan);
      assert.equal(report.failed, 0, JSON.stringify(report.run.operations.map((op) => op.error).filter(Boolean)));

      const after = await db.showCreate('tricky');
      const strip = (text: string) => text.split('\n').map((line) => (line.startsWith('  `') ? withoutComment(line.replace(/,$/, '')) : line.replace(/ COMMENT='.*'$/, '')));
      assert.deepEqual(strip(after), strip(before), 'every column attribute survives');
      const comments = await db.query(
        `SELECT COLUMN_NAME, COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'tricky' ORDER BY ORDINAL_POSITION`,
        [db.database],
      );
      assert.deepEqual(comments, TRICKY_COLUMNS.map((name) => [name, name === 'total2' ? 'gen' : columns[name]]), 'the STORED column keeps its comment');
      const wide = await db.query(`SELECT COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'wide' ORDER BY ORDINAL_POSITION`, [db.database]);
      assert.deepEqual(wide.map(([comment]) => comment), generated);
      const [[tableComment, schemaComment]] = (await db.query(
        `SELECT (SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'tricky'), (SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?)`,
        [db.database, db.database],
      )) as [[string, string]];
      assert.equal(tableComment, HOSTILE_DESCRIPTIONS[1]);
      assert.equal(schemaComment, 'Shop schema');
      assert.deepEqual(
        (await createPlan(loaded)).plan.changes.map((change) => change.id),
        [`shop.default.${db.database}.tricky.total2#description`],
        'converged, but for the column left alone',
      );
    } finally {
      await dir.remove();
    }
  });

  it('leaves system-versioned tables\' columns alone, with the reason in the plan; their table comment still applies', async (t) => {
    if (skip || !db) return t.skip(skip);
    await db.query(`CREATE TABLE \`${db.database}\`.versioned (id int, v int) WITH SYSTEM VERSIONING`);
    const before = await db.showCreate('versioned');
    const dir = await project({ service: 'shop', database: 'default', schemas: { [db.database]: { tables: { versioned: { description: 'History kept', columns: { v: 'value' } } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.match(plan.changes.find((change) => change.level === 'column')?.skipped ?? '', /system-versioned table: MariaDB refuses ALTER TABLE \.\.\. MODIFY COLUMN/);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      assert.equal(await db.showCreate('versioned'), before.replace(/WITH SYSTEM VERSIONING$/, "COMMENT='History kept' WITH SYSTEM VERSIONING"));
    } finally {
      await dir.remove();
    }
  });

  it('refuses, with reasons, what the server would corrupt or cut: 4-byte characters, over-long comments, views', async (t) => {
    if (skip || !db) return t.skip(skip);
    const dir = await project({
      service: 'shop',
      database: 'default',
      schemas: { [db.database]: { tables: { tricky: { description: 'emoji 🚀', columns: { base: 'x'.repeat(1025) } }, v: 'a view' } } },
    });
    try {
      const { plan } = await createPlan(await loadProject(dir.dir));
      const reasons = Object.fromEntries(plan.changes.map((change) => [change.address.split('.').slice(-1)[0], change.skipped]));
      assert.match(reasons['tricky'] ?? '', /keeps comments in utf8mb3, which would turn characters such as emoji into "\?"/);
      assert.match(reasons['base'] ?? '', /1025 characters; MySQL\/MariaDB hold at most 1024 in a column comment/);
      assert.match(reasons['v'] ?? '', /views have no comments/);
      assert.equal(plan.operations.length, 0);
    } finally {
      await dir.remove();
    }
  });

  it('writes the same bytes whatever the server sql_mode (ANSI_QUOTES, NO_BACKSLASH_ESCAPES)', async (t) => {
    if (skip || !db) return t.skip(skip);
    const [[current]] = (await db.query('SELECT @@GLOBAL.sql_mode')) as [[string]];
    // Another run of this test may be under way on this server: its modes are not the server's to keep.
    const globalMode = /ANSI|NO_BACKSLASH_ESCAPES/.test(current) ? 'DEFAULT' : current;
    await db.query(`SET GLOBAL sql_mode = 'ANSI,NO_BACKSLASH_ESCAPES,STRICT_TRANS_TABLES'`);
    const text = `back\\slash 'quote' "double" \`tick\` \\n`;
    const dir = await project({ service: 'shop', database: 'default', schemas: { [db.database]: { tables: { tricky: { description: text, columns: { n: text } } } } } });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.equal((await applyPlan(loaded, plan)).failed, 0);
      const rows = await db.query(
        `SELECT TABLE_COMMENT, (SELECT COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'tricky' AND COLUMN_NAME = 'n') FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'tricky'`,
        [db.database, db.database],
      );
      assert.deepEqual(rows, [[text, text]]);
      assert.deepEqual((await createPlan(loaded)).plan.changes, []);
    } finally {
      await db.query(globalMode === 'DEFAULT' ? 'SET GLOBAL sql_mode = DEFAULT' : 'SET GLOBAL sql_mode = ?', globalMode === 'DEFAULT' ? [] : [globalMode]);
      await dir.remove();
    }
  });

  it('refuses a plan whose column was redefined since: restating it would undo that change', async (t) => {
    if (skip || !db) return t.skip(skip);
    const dir = await project({
      service: 'shop',
      database: 'default',
      schemas: { [db.database]: { tables: { wide: { description: 'Wide table', columns: { c0: 'changed meanwhile' } } } } },
    });
    try {
      const loaded = await loadProject(dir.dir);
      const { plan } = await createPlan(loaded);
      assert.equal(plan.operations.length, 2);
      // Same comment, new type: the values the plan read still hold, its MODIFY COLUMN does not.
      const [[comment]] = (await db.query(`SELECT COLUMN_COMMENT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'wide' AND COLUMN_NAME = 'c0'`, [db.database])) as [[string]];
      await db.query(`ALTER TABLE \`${db.database}\`.wide MODIFY COLUMN c0 bigint COMMENT ?`, [comment]);
      await assert.rejects(applyPlan(loaded, plan), (error: unknown) => {
        assert.ok(error instanceof PlanMismatchError, String(error));
        assert.match(error.message, /wide#columns: its statements differ from what metaform renders/);
        return true;
      });
      const [[type]] = (await db.query(`SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'wide' AND COLUMN_NAME = 'c0'`, [db.database])) as [[string]];
      assert.equal(type, 'bigint(20)', 'the newer definition was kept');
      const { plan: left } = await createPlan(loaded);
      assert.equal(left.changes.length, 2, 'nothing of the refused plan ran');
      assert.equal((await applyPlan(loaded, left)).failed, 0);
    } finally {
      await dir.remove();
    }
  });

  it('imports YAML that plans to no changes', async (t) => {
    if (skip || !db) return t.skip(skip);
    const dir = await project({ service: 'shop', database: 'default', schemas: { [db.database]: null } });
    try {
      const loaded = await loadProject(dir.dir);
      const files = await importService(loaded, 'shop');
      const content = files[0]?.content ?? '';
      assert.match(content, /COMMENT ''inside''|Shop schema/);
      await dir.write('metadata/shop.yaml', content);
      const { plan } = await createPlan(await loadProject(dir.dir));
      assert.deepEqual(plan.changes.filter((change) => change.path[1] === db!.database), []);
    } finally {
      await dir.remove();
    }
  });
});
