/**
 * The pull-request half of `command: pull`: file edits become one branch and one pull request,
 * updated in place while it is open. The edits themselves (catalog changes turned into YAML) come
 * from a callback, which the OpenMetadata pull will provide.
 */
import { call, type Octokit, type Repo } from './github.js';

export interface ProposedChanges {
  /** The branch the pull request targets (the default branch). */
  base: string;
  /** The branch metaform owns and rewrites on each run, e.g. `metaform/pull`. */
  branch: string;
  title: string;
  body: string;
  commitMessage: string;
  /** path (from the repository root) -> new content, or null to delete the file. */
  files: ReadonlyMap<string, string | null>;
}

export interface ProposalOutcome {
  pullRequest: number;
  /** created: a new pull request; updated: new commit on the open one; unchanged: same edits as before. */
  state: 'created' | 'updated' | 'unchanged';
  commit: string;
}

const CONTENTS = 'contents: write';
const PULLS = 'pull-requests: write';

async function branchHead(octokit: Octokit, repo: Repo, branch: string): Promise<string | undefined> {
  try {
    const ref = await octokit.rest.git.getRef({ ...repo, ref: `heads/${branch}` });
    return ref.data.object.sha;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    return call(`read branch ${branch}`, 'contents: read', () => Promise.reject(error));
  }
}

/**
 * One commit on top of the base branch's head with the edits, force-written to `branch` (the
 * branch is metaform's alone), and one open pull request from it, created or retitled in place.
 * Nothing is written when the edits are what the branch already holds on the same base.
 */
export async function proposeChanges(octokit: Octokit, repo: Repo, proposal: ProposedChanges): Promise<ProposalOutcome> {
  const baseHead = await branchHead(octokit, repo, proposal.base);
  if (!baseHead) throw new Error(`base branch ${proposal.base} does not exist`);
  const baseCommit = await call(`read commit ${baseHead}`, 'contents: read', () => octokit.rest.git.getCommit({ ...repo, commit_sha: baseHead }));
  const tree = await call(`write the tree of ${proposal.branch}`, CONTENTS, () =>
    octokit.rest.git.createTree({
      ...repo,
      base_tree: baseCommit.data.tree.sha,
      tree: [...proposal.files].map(([path, content]) =>
        content === null ? { path, mode: '100644' as const, type: 'blob' as const, sha: null } : { path, mode: '100644' as const, type: 'blob' as const, content },
      ),
    }),
  );

  const branchSha = await branchHead(octokit, repo, proposal.branch);
  const open = await call(`list the pull requests of ${proposal.branch}`, 'pull-requests: read', () =>
    octokit.rest.pulls.list({ ...repo, state: 'open', head: `${repo.owner}:${proposal.branch}`, per_page: 100 }),
  );
  const existing = open.data[0];
  let commit = branchSha;
  let changed = true;
  if (branchSha) {
    const current = await call(`read commit ${branchSha}`, 'contents: read', () => octokit.rest.git.getCommit({ ...repo, commit_sha: branchSha }));
    changed = current.data.tree.sha !== tree.data.sha || current.data.parents[0]?.sha !== baseHead;
  }
  if (changed || !commit) {
    const created = await call(`commit to ${proposal.branch}`, CONTENTS, () =>
      octokit.rest.git.createCommit({ ...repo, message: proposal.commitMessage, tree: tree.data.sha, parents: [baseHead] }),
    );
    commit = created.data.sha;
    const sha = commit;
    if (branchSha) await call(`update branch ${proposal.branch}`, CONTENTS, () => octokit.rest.git.updateRef({ ...repo, ref: `heads/${proposal.branch}`, sha, force: true }));
    else await call(`create branch ${proposal.branch}`, CONTENTS, () => octokit.rest.git.createRef({ ...repo, ref: `refs/heads/${proposal.branch}`, sha }));
  }
  if (existing) {
    if (existing.title !== proposal.title || existing.body !== proposal.body)
      await call(`update pull request #${existing.number}`, PULLS, () => octokit.rest.pulls.update({ ...repo, pull_number: existing.number, title: proposal.title, body: proposal.body }));
    return { pullRequest: existing.number, state: changed ? 'updated' : 'unchanged', commit: commit as string };
  }
  const created = await call(`open a pull request from ${proposal.branch}`, PULLS, () =>
    octokit.rest.pulls.create({ ...repo, title: proposal.title, body: proposal.body, head: proposal.branch, base: proposal.base }),
  );
  return { pullRequest: created.data.number, state: 'created', commit: commit as string };
}
