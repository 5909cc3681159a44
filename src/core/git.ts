import { simpleGit } from 'simple-git';

/** The commit the desired state came from, recorded in plans and the journal for the audit trail. */
export async function gitRevision(dir: string): Promise<{ commit?: string; dirty?: boolean } | undefined> {
  try {
    const git = simpleGit({ baseDir: dir });
    if (!(await git.checkIsRepo())) return undefined;
    const [commit, status] = await Promise.all([git.revparse(['HEAD']).catch(() => undefined), git.status()]);
    return { ...(commit ? { commit: commit.trim() } : {}), dirty: !status.isClean() };
  } catch {
    return undefined;
  }
}
