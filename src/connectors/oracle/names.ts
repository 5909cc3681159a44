/**
 * Oracle's identifier rules for names as metaform carries them (SQL Language Reference,
 * "Database Object Names and Qualifiers"): a nonquoted identifier starts with a letter and holds
 * letters, digits, _, $ and #, and is stored in upper case; a quoted one keeps its case and can
 * hold anything but a double quotation mark. A name in YAML is written as in SQL: `orders` and
 * `ORDERS` designate the stored name ORDERS, `"Orders"` the stored name Orders; a name that
 * cannot be a nonquoted identifier (spaces, dots) is taken as written. Live names are spelled the
 * same way, so that `spellName(stored)` folds back to `stored`.
 */
const UNQUOTED = /^[A-Za-z][A-Za-z0-9_$#]*$/;
const STORED_UNQUOTED = /^[A-Z][A-Z0-9_$#]*$/;

/** The stored name a spelling designates. */
export function storedName(spelling: string): string {
  if (spelling.length >= 3 && spelling.startsWith('"') && spelling.endsWith('"') && !spelling.slice(1, -1).includes('"')) return spelling.slice(1, -1);
  return UNQUOTED.test(spelling) ? spelling.toUpperCase() : spelling;
}

/** How metaform writes a stored name: bare when Oracle would fold it to itself, else quoted. */
export function spellName(stored: string): string {
  return STORED_UNQUOTED.test(stored) ? stored : `"${stored}"`;
}
