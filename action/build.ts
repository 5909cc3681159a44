/**
 * Builds the action's runnable file, action/bundle/index.js, committed so that `uses:
 * <owner>/metaform@<ref>` runs with no install step. `npm run build:action` writes it;
 * test/action-bundle.test.ts fails when it is out of date with the sources.
 *
 * The bundle sits two folders below the repository root, like src/core/*.ts and dist/core/*.js,
 * so the `new URL('../../schemas/', import.meta.url)` reads of the sources still find
 * schemas/ and package.json in the action's checkout.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';

export const BUNDLE = fileURLToPath(new URL('./bundle/index.js', import.meta.url));

export function bundleOptions(): BuildOptions {
  return {
    // Paths in the bundle's comments are relative to this, so every clone builds the same bytes.
    absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
    entryPoints: ['src/action/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    // The runner uses node24; node20 syntax keeps the bundle runnable on older self-hosted runners.
    target: 'node20',
    // CommonJS drivers call require() for node built-ins: give the ESM bundle a real one.
    banner: { js: "import { createRequire as __metaformCreateRequire } from 'node:module';\nconst require = __metaformCreateRequire(import.meta.url);" },
    // pg's optional native binding, loaded only through pg.native, which metaform never uses; and
    // the cloud drivers, which ship native binaries (loaded only when a service of theirs connects);
    // and the AWS SDK's Athena client (1.2 MB), mssql (tedious and Azure identity: 2.5 MiB) and
    // oracledb, which only their services need.
    external: ['pg-native', 'snowflake-sdk', '@databricks/sql', '@aws-sdk/client-athena', 'mssql', 'oracledb'],
    legalComments: 'eof',
    logLevel: 'warning',
    write: false,
    outfile: BUNDLE,
  };
}

/** The bundle's text. */
export async function buildBundle(): Promise<string> {
  const { build } = await import('esbuild');
  const result = await build(bundleOptions());
  const output = result.outputFiles?.[0];
  if (!output) throw new Error('esbuild produced no output');
  return output.text;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = await buildBundle();
  await writeFile(BUNDLE, text);
  console.log(`wrote ${BUNDLE} (${(Buffer.byteLength(text) / 1024).toFixed(0)} KiB)`);
}
