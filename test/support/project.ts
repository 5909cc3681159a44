import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

/** A throwaway metaform project on disk. */
export interface TempProject {
  dir: string;
  write(path: string, content: string | object): Promise<void>;
  remove(): Promise<void>;
}

export async function tempProject(config: object, metadata: Record<string, string | object> = {}): Promise<TempProject> {
  const dir = await mkdtemp(join(tmpdir(), 'metaform-test-'));
  const write = async (path: string, content: string | object) => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : stringify(content));
  };
  await write('metaform.yaml', config);
  for (const [path, content] of Object.entries(metadata)) await write(path, content);
  return { dir, write, remove: () => rm(dir, { recursive: true, force: true }) };
}
