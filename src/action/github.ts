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

/** The login the token writes as: a user token can ask; GITHUB_TOKEN (an installation) cannot. */
export async function tokenLogin(octokit: Octokit): Promise<string> {
  try {
    return (await octokit.rest.users.getAuthenticated()).data.login;
  } catch (error) {
    if (isRequestError(error) && (error.status === 403 || error.status === 404)) return 'github-actions[bot]';
    throw error;
  }
}

export interface FoundComment {
  id: number;
  body: string;
}

/**
 * The comment of ours that carries this marker, among all the issue's comments (paged 100 at a
 * time to the end: busy pull requests have more than one page); the newest when several match.
 */
export async function findComment(octokit: Octokit, repo: Repo, issue: number, login: string, matches: (body: string) => boolean): Promise<FoundComment | undefined> {
  const comments = await call(`read the comments of #${issue}`, 'pull-requests: read', () =>
    octokit.paginate(octokit.rest.issues.listComments, { ...repo, issue_number: issue, per_page: 100 }),
  );
  let found: FoundComment | undefined;
  for (const comment of comments)
    if (comment.user?.login === login && comment.body !== undefined && matches(comment.body)) found = { id: comment.id, body: comment.body };
  return found;
}

/** Updates our marked comment in place, or creates it; skips the write when nothing changed. */
export async function upsertComment(octokit: Octokit, repo: Repo, issue: number, existing: FoundComment | undefined, body: string): Promise<number> {
  if (existing) {
    if (existing.body !== body)
      await call(`update comment ${existing.id} on #${issue}`, 'pull-requests: write', () => octokit.rest.issues.updateComment({ ...repo, comment_id: existing.id, body }));
    return existing.id;
  }
  const created = await call(`comment on #${issue}`, 'pull-requests: write', () => octokit.rest.issues.createComment({ ...repo, issue_number: issue, body }));
  return created.data.id;
}

export interface MergedPull {
  number: number;
  title: string;
}

/** The pull request merged as this commit (merge, squash or rebase merge). */
export async function mergedPullRequest(octokit: Octokit, repo: Repo, sha: string): Promise<MergedPull | undefined> {
  const pulls = await call(`list the pull requests of commit ${sha}`, 'pull-requests: read', () =>
    octokit.paginate(octokit.rest.repos.listPullRequestsAssociatedWithCommit, { ...repo, commit_sha: sha, per_page: 100 }),
  );
  const merged = pulls.filter((pull) => pull.merged_at);
  const exact = merged.find((pull) => pull.merge_commit_sha === sha) ?? merged[0];
  return exact ? { number: exact.number, title: exact.title } : undefined;
}
