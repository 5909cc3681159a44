/**
 * The GitHub side of the action, through the official client (@actions/github's octokit with the
 * throttling plugin, which honours retry-after). Every call names what it needs, so a 403 says
 * which permission to add to the workflow.
 */
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import { throttling } from '@octokit/plugin-throttling';
import { ActionFailure } from './failure.js';

export type Octokit = ReturnType<typeof getOctokit>;

export interface Repo {
  owner: string;
  repo: string;
}

/** Retries per request after a rate limit; each waits as long as GitHub's retry-after says. */
const RATE_LIMIT_RETRIES = 3;
/** Longer waits than this are not worth a runner's time: the run fails with rate-limited. */
const LONGEST_WAIT_SECONDS = 300;

export function githubClient(token: string): Octokit {
  if (!token) throw new ActionFailure('no-token', 'no GitHub token', 'pass `github-token` (it defaults to `${{ github.token }}`)');
  const retry = (kind: string) => (retryAfter: number, options: { method?: string; url?: string }, _octokit: unknown, retryCount: number) => {
    const again = retryCount < RATE_LIMIT_RETRIES && retryAfter <= LONGEST_WAIT_SECONDS;
    core.warning(`GitHub ${kind} rate limit on ${options.method ?? ''} ${options.url ?? ''}: ${again ? `retrying after ${retryAfter} s` : 'giving up'}`);
    return again;
  };
  // GITHUB_API_URL: GitHub Enterprise, or the tests' emulator. Read now: @actions/github reads it
  // once, when it is first imported.
  const baseUrl = process.env['GITHUB_API_URL'] || 'https://api.github.com';
  return getOctokit(token, { baseUrl, throttle: { onRateLimit: retry('primary'), onSecondaryRateLimit: retry('secondary') } }, throttling);
}

interface RequestErrorLike {
  status: number;
  message: string;
  response?: { headers?: Record<string, string | number | undefined> };
}

function isRequestError(error: unknown): error is RequestErrorLike {
  return error instanceof Error && typeof (error as Partial<RequestErrorLike>).status === 'number';
}

/**
 * Runs one GitHub call; a failure becomes an ActionFailure that says what was being done and
 * what to change. `permission` is the workflow permission the call needs.
 */
export async function call<T>(doing: string, permission: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!isRequestError(error)) throw error;
    const headers = error.response?.headers ?? {};
    const rateLimited = error.status === 429 || (error.status === 403 && (/rate limit/i.test(error.message) || headers['x-ratelimit-remaining'] === '0'));
    if (rateLimited)
      throw new ActionFailure(
        'rate-limited',
        `GitHub rate limit while trying to ${doing} (${error.message}${headers['retry-after'] ? `; retry-after ${headers['retry-after']} s` : ''})`,
        're-run the job later; schedules that run many projects at once can be spread over several minutes',
      );
    if (error.status === 401) throw new ActionFailure('bad-credentials', `GitHub refused the token while trying to ${doing} (401 ${error.message})`, 'check the `github-token` input');
    if (error.status === 403 && /not permitted to create or approve pull requests/i.test(error.message))
      throw new ActionFailure(
        'permission-denied',
        `GitHub refused to ${doing}: the repository does not allow GitHub Actions to create pull requests (403 ${error.message})`,
        'pass a GitHub App token or a personal token as `github-token` (pull requests opened with GITHUB_TOKEN start no workflow, so they would get no plan anyway); or enable Settings > Actions > General > "Allow GitHub Actions to create and approve pull requests"',
      );
    if (error.status === 403)
      throw new ActionFailure(
        'permission-denied',
        `the token may not ${doing} (403 ${error.message})`,
        `give the job \`permissions: { ${permission} }\`; on pull requests from forks GITHUB_TOKEN is read-only`,
      );
    if (error.status === 422 && /too long/i.test(error.message))
      throw new ActionFailure('comment-too-long', `GitHub refused to ${doing}: ${error.message}`, 'this is a metaform bug (bodies are cut to fit); please report it');
    if (error.status === 404) throw new ActionFailure('not-found', `GitHub answered 404 while trying to ${doing}`, 'check the repository and that the token can see it');
    throw new ActionFailure('github-error', `GitHub refused to ${doing}: ${error.status} ${error.message}`);
  }
}

/**
 * Who the token writes as. A personal token reads GET /user. An installation token (GITHUB_TOKEN,
 * or a GitHub App's) may not: GitHub's OpenAPI description marks GET /user
 * `enabledForGitHubApps: false`, and GET /app needs the App's JWT. GraphQL `viewer` answers both
 * kinds with the login comments are written as: `github-actions[bot]` for GITHUB_TOKEN,
 * `<app-slug>[bot]` for an App. `login` is undefined when neither answered.
 */
export interface TokenIdentity {
  kind: 'user' | 'installation';
  login?: string;
}

export async function tokenIdentity(octokit: Octokit): Promise<TokenIdentity> {
  try {
    return { kind: 'user', login: (await octokit.rest.users.getAuthenticated()).data.login };
  } catch (error) {
    if (!isRequestError(error)) throw error;
    if (error.status === 401) return call('read who the token is', '', () => Promise.reject(error));
    if (error.status !== 403 && error.status !== 404) return call('read who the token is', '', () => Promise.reject(error));
  }
  try {
    const answer = await octokit.graphql<{ viewer?: { login?: string } }>('query { viewer { login } }');
    if (answer.viewer?.login) return { kind: 'installation', login: answer.viewer.login };
  } catch (error) {
    core.warning(`could not learn the token's login (GraphQL viewer: ${error instanceof Error ? error.message : String(error)}); comments by any bot that carry the marker count as ours`);
  }
  return { kind: 'installation' };
}

/** Whether a comment was written by the token's identity. */
export function writtenBy(identity: TokenIdentity, user: { login?: string; type?: string } | null | undefined): boolean {
  if (!user) return false;
  return identity.login !== undefined ? user.login === identity.login : user.type === 'Bot';
}

export interface FoundComment {
  id: number;
  body: string;
  nodeId?: string;
}

/**
 * The comment of ours that carries this marker, among all the issue's comments (paged 100 at a
 * time to the end: busy pull requests have more than one page); the newest when several match.
 */
export async function findComment(octokit: Octokit, repo: Repo, issue: number, identity: TokenIdentity, matches: (body: string) => boolean): Promise<FoundComment | undefined> {
  return (await findComments(octokit, repo, issue, identity, matches)).at(-1);
}

/** All our comments with a matching marker, oldest first. */
export async function findComments(octokit: Octokit, repo: Repo, issue: number, identity: TokenIdentity, matches: (body: string) => boolean): Promise<FoundComment[]> {
  const comments = await call(`read the comments of #${issue}`, 'pull-requests: read', () =>
    octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: issue, per_page: 100 }),
  );
  const found: FoundComment[] = [];
  for (const comment of comments)
    if (writtenBy(identity, comment.user) && comment.body !== undefined && matches(comment.body)) found.push({ id: comment.id, body: comment.body, nodeId: comment.node_id });
  return found;
}

/** Hides a comment as outdated (GraphQL minimizeComment: REST has no way to). */
export async function minimizeComment(octokit: Octokit, comment: FoundComment): Promise<void> {
  if (!comment.nodeId) return;
  const id = comment.nodeId;
  await call(`minimize comment ${comment.id}`, 'pull-requests: write', () =>
    octokit.graphql('mutation($id: ID!) { minimizeComment(input: { subjectId: $id, classifier: OUTDATED }) { clientMutationId } }', { id }),
  );
}

export interface WrittenComment {
  id: number;
  /** What was written: nothing when the comment already said this. */
  written: 'created' | 'updated' | 'unchanged';
}

/** Updates our marked comment in place, or creates it; skips the write when nothing changed. */
export async function upsertComment(octokit: Octokit, repo: Repo, issue: number, existing: FoundComment | undefined, body: string): Promise<WrittenComment> {
  if (existing) {
    if (existing.body === body) return { id: existing.id, written: 'unchanged' };
    await call(`update comment ${existing.id} on #${issue}`, 'pull-requests: write', () => octokit.rest.issues.updateComment({ ...repo, comment_id: existing.id, body }));
    return { id: existing.id, written: 'updated' };
  }
  const created = await call(`comment on #${issue}`, 'pull-requests: write', () => octokit.rest.issues.createComment({ ...repo, issue_number: issue, body }));
  return { id: created.data.id, written: 'created' };
}

export interface MergedPull {
  number: number;
  title: string;
  /** Who opened it: pull requests opened with GITHUB_TOKEN start no workflow, so they have no plan. */
  author?: string;
  mergedAt?: string;
}

/** Waits between reads of a merge commit's pull requests: GitHub links them a moment after the push. */
const LINK_WAITS_SECONDS = [1, 2, 4, 8];

async function pullsOfCommit(octokit: Octokit, repo: Repo, sha: string): Promise<MergedPull[]> {
  const pulls = await call(`list the pull requests of commit ${sha}`, 'pull-requests: read', () =>
    octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, { ...repo, commit_sha: sha, per_page: 100 }),
  );
  return pulls
    .filter((pull) => pull.merged_at)
    .map((pull) => ({ number: pull.number, title: pull.title, ...(pull.user ? { author: pull.user.login } : {}), ...(pull.merged_at ? { mergedAt: pull.merged_at } : {}) }));
}

/**
 * The pull requests merged by a push: those of each of its commits (a merge queue or a batch
 * lands several at once), oldest merge first. When the head commit has none yet, it is read again
 * after a short wait, since GitHub writes the association shortly after the push.
 */
export async function mergedPullRequests(octokit: Octokit, repo: Repo, sha: string, commits: readonly string[] = []): Promise<MergedPull[]> {
  const byNumber = new Map<number, MergedPull>();
  let head = await pullsOfCommit(octokit, repo, sha);
  for (const wait of LINK_WAITS_SECONDS) {
    if (head.length > 0) break;
    core.info(`no pull request is linked to ${sha} yet; reading again in ${wait} s`);
    await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    head = await pullsOfCommit(octokit, repo, sha);
  }
  for (const pull of head) byNumber.set(pull.number, pull);
  for (const commit of new Set(commits)) if (commit !== sha) for (const pull of await pullsOfCommit(octokit, repo, commit)) byNumber.set(pull.number, pull);
  return [...byNumber.values()].sort((a, b) => (a.mergedAt ?? '').localeCompare(b.mergedAt ?? '') || a.number - b.number);
}

/** The pull requests merged into `base` before `before`, newest first (one page: the recent ones). */
export async function earlierMergedPullRequests(octokit: Octokit, repo: Repo, base: string, before: string): Promise<MergedPull[]> {
  const listed = await call(`list the pull requests merged into ${base}`, 'pull-requests: read', () =>
    octokit.rest.pulls.list({ ...repo, state: 'closed', base, sort: 'updated', direction: 'desc', per_page: 50 }),
  );
  return listed.data
    .filter((pull) => pull.merged_at && pull.merged_at < before)
    .map((pull) => ({ number: pull.number, title: pull.title, ...(pull.user ? { author: pull.user.login } : {}), ...(pull.merged_at ? { mergedAt: pull.merged_at } : {}) }))
    .sort((a, b) => (b.mergedAt ?? '').localeCompare(a.mergedAt ?? ''));
}

/** The repository's default branch: from the event when it carries the repository, else from GitHub. */
export async function defaultBranch(octokit: Octokit, repo: Repo, fromEvent: string | undefined): Promise<string> {
  if (fromEvent) return fromEvent;
  const answer = await call('read the repository', 'contents: read', () => octokit.rest.repos.get({ ...repo }));
  return answer.data.default_branch;
}
