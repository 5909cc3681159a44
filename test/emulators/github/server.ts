/**
 * A local emulator of the GitHub REST endpoints the metaform action uses: issue comments (paged
 * with Link headers, the 65,536-character body limit answered with GitHub's 422), pull requests
 * associated with a commit, issues with labels and state, the authenticated user, 401/403 for bad
 * or under-privileged tokens, and injected 429 / secondary rate limits with retry-after; and the
 * GraphQL `viewer` and `minimizeComment` (the only way an App installation token learns its own
 * login, and the way outdated comments are hidden).
 * Its JSON validates against GitHub's OpenAPI description (test/github-openapi.test.ts).
 * It imports nothing from src/: it is driven through the same octokit calls as production.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { buildSchema, graphql, type GraphQLSchema } from 'graphql';
import { authenticatedUserJson, commentJson, fullRepositoryJson, gitCommitJson, gitRefJson, gitTreeJson, issueJson as issueShape, labelJson, pullJson as pullShape } from './shapes.js';

export type Access = 'none' | 'read' | 'write';

/** The login GitHub gives GITHUB_TOKEN: the installation of the GitHub Actions app. */
export const ACTIONS_BOT = 'github-actions[bot]';

export interface TokenGrant {
  /** A user's login, or `<app-slug>[bot]` for an installation (GITHUB_TOKEN is `github-actions[bot]`). */
  login: string;
  /**
   * An installation token (GITHUB_TOKEN, or a GitHub App's) cannot read GET /user: the OpenAPI
   * description marks it `enabledForGitHubApps: false`, and GitHub answers 403 "Resource not
   * accessible by integration". GraphQL `viewer` answers it with the bot's login.
   */
  kind: 'installation' | 'user';
  /** contents defaults to read, as GITHUB_TOKEN's. */
  permissions: { issues: Access; pull_requests: Access; contents?: Access };
}

export interface GitCommit {
  sha: string;
  message: string;
  tree: string;
  parents: string[];
}

export interface EmulatedUser {
  login: string;
  type: 'User' | 'Bot';
}

export interface EmulatedComment {
  id: number;
  issue: number;
  body: string;
  user: EmulatedUser;
  created_at: string;
  updated_at: string;
  /** Set by GraphQL minimizeComment (the classifier, e.g. OUTDATED). */
  minimized?: string;
}

export interface EmulatedIssue {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  user: EmulatedUser;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  pull_request?: {
    merged_at: string | null;
    merge_commit_sha: string | null;
    base: string;
    head: string;
    /** The head branch's commit. */
    head_sha: string;
    /** The repository the head branch lives in (a fork's, or this one). */
    head_repository: string;
  };
}

/** An event that starts workflows (pull_request opened, push), as GitHub would deliver it. */
export interface WorkflowTrigger {
  event: 'pull_request' | 'push';
  action?: string;
  number?: number;
  ref?: string;
  by: string;
}

export interface InjectedFailure {
  status: 403 | 429;
  /** Seconds, sent as the retry-after header. */
  retryAfter: number;
  /** Primary limit (x-ratelimit-remaining: 0) rather than a secondary one. */
  primary?: boolean;
}

/** GitHub counts the body's characters (code points). */
export const BODY_LIMIT = 65_536;
const DOCS = 'https://docs.github.com/rest';

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: object,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(status));
  }
}

function codePoints(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) i++;
    count++;
  }
  return count;
}

export class GitHubEmulator {
  readonly tokens = new Map<string, TokenGrant>();
  readonly issues = new Map<number, EmulatedIssue>();
  readonly comments = new Map<number, EmulatedComment>();
  /** commit sha -> pull request numbers associated with it. */
  readonly commitPulls = new Map<string, number[]>();
  /** Git objects: trees are flat maps path -> content; shas are content hashes, as git's are. */
  readonly trees = new Map<string, Map<string, string>>();
  readonly commits = new Map<string, GitCommit>();
  /** branch -> commit sha. */
  readonly refs = new Map<string, string>();
  /** Every request, as "METHOD /path?query". */
  readonly requests: string[] = [];
  /** The repository's default branch (GET /repos/{owner}/{repo}). */
  defaultBranch = 'main';
  /**
   * "Allow GitHub Actions to create and approve pull requests" (Settings > Actions > General). Off
   * by default for new repositories: "By default, when you create a new repository in your
   * personal account, workflows are not allowed to create or approve pull requests"
   * (docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/enabling-features-for-your-repository/managing-github-actions-settings-for-a-repository).
   */
  actionsMayCreatePullRequests = false;
  /**
   * Events that start workflows. "When you use the repository's GITHUB_TOKEN to perform tasks,
   * events triggered by the GITHUB_TOKEN, with the exception of workflow_dispatch and
   * repository_dispatch, will not create a new workflow run"
   * (docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication):
   * what GITHUB_TOKEN does is not recorded here.
   */
  readonly triggers: WorkflowTrigger[] = [];
  /** merge commit -> reads of its pull requests still answered [] (GitHub links them a moment after the merge). */
  private readonly unlinked = new Map<string, number>();
  private readonly failures: InjectedFailure[] = [];
  private nextIssue = 1;
  private nextComment = 1000;
  private clock = Date.UTC(2026, 0, 1);
  private server: Server | undefined;

  constructor(readonly repository = 'acme/warehouse') {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the GitHub emulator is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  grant(token: string, grant: TokenGrant): void {
    this.tokens.set(token, grant);
  }

  /** The next requests fail this way, one failure per request, in order. */
  failNext(...failures: InjectedFailure[]): void {
    for (const failure of failures) this.failures.push(failure);
  }

  addPullRequest(fields: { title?: string; user?: EmulatedUser; merged?: { sha: string }; base?: string; head?: string; headSha?: string; fork?: string }): EmulatedIssue {
    const issue = this.addIssue({ title: fields.title ?? 'A pull request', ...(fields.user ? { user: fields.user } : {}) });
    issue.pull_request = {
      merged_at: null,
      merge_commit_sha: null,
      base: fields.base ?? this.defaultBranch,
      head: fields.head ?? `feature-${issue.number}`,
      head_sha: fields.headSha ?? createHash('sha1').update(`head of #${issue.number}`).digest('hex'),
      head_repository: fields.fork ?? this.repository,
    };
    if (fields.merged) this.merge(issue.number, fields.merged.sha);
    return issue;
  }

  /**
   * Merges a pull request as this commit (merge, squash or rebase: the commit lists it). A merged
   * pull request is closed, as on GitHub. `unlinkedReads`: that many reads of the commit's pull
   * requests still answer [] (the association is written a moment after the push).
   */
  merge(number: number, sha: string, unlinkedReads = 0): void {
    const issue = this.issue(number);
    if (!issue.pull_request) throw new Error(`#${number} is not a pull request`);
    issue.pull_request.merged_at = this.now();
    issue.pull_request.merge_commit_sha = sha;
    this.close(issue);
    this.commitPulls.set(sha, [...(this.commitPulls.get(sha) ?? []), number]);
    if (unlinkedReads > 0) this.unlinked.set(sha, unlinkedReads);
  }

  /** A new head commit on a pull request's branch (a push to it). */
  pushTo(number: number, headSha: string): void {
    const pull = this.issue(number).pull_request;
    if (!pull) throw new Error(`#${number} is not a pull request`);
    pull.head_sha = headSha;
  }

  /** A commit on a branch with these files (the repository's default branch to start with). */
  commitFiles(branch: string, files: Record<string, string>, message = 'commit'): string {
    const tree = this.storeTree(new Map(Object.entries(files)));
    const parent = this.refs.get(branch);
    const sha = this.storeCommit({ message, tree, parents: parent ? [parent] : [] });
    this.refs.set(branch, sha);
    return sha;
  }

  /** The files of a branch's head commit. */
  filesOf(branch: string): Map<string, string> {
    const head = this.refs.get(branch);
    const commit = head ? this.commits.get(head) : undefined;
    return new Map(commit ? this.trees.get(commit.tree) : []);
  }

  private storeTree(files: Map<string, string>): string {
    const sorted = [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sha = createHash('sha1').update(JSON.stringify(sorted)).digest('hex');
    this.trees.set(sha, new Map(sorted));
    return sha;
  }

  private storeCommit(fields: Omit<GitCommit, 'sha'>): string {
    const sha = createHash('sha1').update(JSON.stringify([fields, this.commits.size])).digest('hex');
    this.commits.set(sha, { sha, ...fields });
    return sha;
  }

  addIssue(fields: { title: string; body?: string; labels?: string[]; user?: EmulatedUser; state?: 'open' | 'closed' }): EmulatedIssue {
    const now = this.now();
    const issue: EmulatedIssue = {
      number: this.nextIssue++,
      title: fields.title,
      body: fields.body ?? '',
      state: fields.state ?? 'open',
      labels: fields.labels ?? [],
      user: fields.user ?? { login: 'octocat', type: 'User' },
      created_at: now,
      updated_at: now,
      closed_at: fields.state === 'closed' ? now : null,
    };
    this.issues.set(issue.number, issue);
    return issue;
  }

  addComment(issue: number, body: string, user: EmulatedUser): EmulatedComment {
    const now = this.now();
    const comment: EmulatedComment = { id: this.nextComment++, issue, body, user, created_at: now, updated_at: now };
    this.comments.set(comment.id, comment);
    return comment;
  }

  private close(issue: EmulatedIssue): void {
    issue.state = 'closed';
    issue.closed_at = issue.updated_at = this.now();
  }

  commentsOn(issue: number): EmulatedComment[] {
    return [...this.comments.values()].filter((comment) => comment.issue === issue);
  }

  private now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://emulator');
    this.requests.push(`${request.method ?? 'GET'} ${url.pathname}${url.search}`);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown> = {};
      try {
        if (text) body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // GitHub answers a body that is not JSON with 400 "Problems parsing JSON".
        throw new HttpError(400, { message: 'Problems parsing JSON', documentation_url: DOCS, status: '400' });
      }
      const grant = this.authenticate(request);
      const failure = this.failures.shift();
      if (failure) throw rateLimited(failure);
      const { status, data, headers } =
        request.method === 'POST' && url.pathname === '/graphql' ? await this.graphqlRoute(body, grant) : this.route(request.method ?? 'GET', url, body, grant);
      response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
      response.end(status === 204 ? undefined : JSON.stringify(data));
    } catch (error) {
      const failure = error instanceof HttpError ? error : new HttpError(500, { message: String(error) });
      response.writeHead(failure.status, { 'content-type': 'application/json; charset=utf-8', ...failure.headers });
      response.end(JSON.stringify(failure.body));
    }
  }

  private authenticate(request: IncomingMessage): TokenGrant {
    const header = request.headers.authorization ?? '';
    const token = header.replace(/^(token|bearer)\s+/i, '');
    const grant = this.tokens.get(token);
    if (!grant) throw new HttpError(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    return grant;
  }

  private route(method: string, url: URL, body: Record<string, unknown>, grant: TokenGrant): { status: number; data?: unknown; headers?: Record<string, string> } {
    const path = url.pathname;
    if (method === 'GET' && path === '/user') {
      if (grant.kind === 'installation') throw forbidden('users/users#get-the-authenticated-user');
      return { status: 200, data: authenticatedUserJson({ login: grant.login, type: 'User' }) };
    }
    const match = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (!match || `${match[1]}/${match[2]}` !== this.repository) throw notFound();
    const rest = match[3] ?? '';
    if (rest === '' && method === 'GET') {
      this.requireContents(grant, 'read', 'repos/repos#get-a-repository');
      return { status: 200, data: fullRepositoryJson(this.repository, this.defaultBranch) };
    }
    const user: EmulatedUser = grant.kind === 'installation' ? { login: grant.login, type: 'Bot' } : { login: grant.login, type: 'User' };
    let parts: RegExpExecArray | null;

    if ((parts = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const issue = this.issue(Number(parts[1]));
      if (method === 'GET') {
        this.require(grant, issue, 'read', 'issues/comments#list-issue-comments');
        return this.page(url, this.commentsOn(issue.number).map((comment) => commentJson(this.repository, comment)));
      }
      if (method === 'POST') {
        this.require(grant, issue, 'write', 'issues/comments#create-an-issue-comment');
        const text = this.checkBody(body, 'IssueComment');
        return { status: 201, data: commentJson(this.repository, this.addComment(issue.number, text, user)) };
      }
    }
    if ((parts = /^\/issues\/comments\/(\d+)$/.exec(rest))) {
      const comment = this.comments.get(Number(parts[1]));
      if (!comment) throw notFound();
      const issue = this.issue(comment.issue);
      if (method === 'PATCH') {
        this.require(grant, issue, 'write', 'issues/comments#update-an-issue-comment');
        comment.body = this.checkBody(body, 'IssueComment');
        comment.updated_at = this.now();
        return { status: 200, data: commentJson(this.repository, comment) };
      }
      if (method === 'DELETE') {
        this.require(grant, issue, 'write', 'issues/comments#delete-an-issue-comment');
        this.comments.delete(comment.id);
        return { status: 204 };
      }
    }
    if ((parts = /^\/commits\/(.+)\/pulls$/.exec(decodeURIComponent(rest))) && method === 'GET') {
      if (grant.permissions.pull_requests === 'none') throw forbidden('commits/commits#list-pull-requests-associated-with-a-commit');
      // commit_sha may name a branch: GitHub then lists the open pull requests whose head it is
      // ("If the commit_sha is a branch name, the endpoint lists the open or merged pull requests
      // associated with the branch", REST docs, commits#list-pull-requests-associated-with-a-commit).
      const ref = parts[1] ?? '';
      if (!/^[0-9a-f]{4,40}$/.test(ref)) {
        if (!this.refs.has(ref)) throw new HttpError(422, { message: `No commit found for SHA: ${ref}`, documentation_url: DOCS, status: '422' });
        const pulls = [...this.issues.values()].filter((issue) => issue.pull_request?.head === ref && issue.state === 'open');
        return this.page(url, pulls.map((issue) => this.pullJson(issue)));
      }
      const hidden = this.unlinked.get(ref) ?? 0;
      if (hidden > 0) {
        this.unlinked.set(ref, hidden - 1);
        return this.page(url, []);
      }
      const pulls = (this.commitPulls.get(ref) ?? []).map((number) => this.pullJson(this.issue(number)));
      return this.page(url, pulls);
    }
    if ((parts = /^\/pulls\/(\d+)$/.exec(rest)) && method === 'GET') {
      const issue = this.issue(Number(parts[1]));
      if (!issue.pull_request) throw notFound();
      if (grant.permissions.pull_requests === 'none') throw forbidden('pulls/pulls#get-a-pull-request');
      return { status: 200, data: this.pullJson(issue, true) };
    }
    if (rest === '/issues') {
      if (method === 'GET') {
        if (grant.permissions.issues === 'none') throw forbidden('issues/issues#list-repository-issues');
        const state = url.searchParams.get('state') ?? 'open';
        const labels = (url.searchParams.get('labels') ?? '').split(',').filter(Boolean);
        const found = [...this.issues.values()].filter(
          (issue) => (state === 'all' || issue.state === state) && labels.every((label) => issue.labels.includes(label)),
        );
        // Newest first, as GitHub's default sort (created, desc).
        found.reverse();
        return this.page(url, found.map((issue) => this.issueJson(issue)));
      }
      if (method === 'POST') {
        if (grant.permissions.issues !== 'write') throw forbidden('issues/issues#create-an-issue');
        if (typeof body['title'] !== 'string' || body['title'] === '') throw invalid('Issue', 'title', 'missing_field', 'title is missing');
        const text = this.checkBody(body, 'Issue', true);
        const labels = Array.isArray(body['labels']) ? body['labels'].map(String) : [];
        const issue = this.addIssue({ title: body['title'], body: text, labels, user });
        return { status: 201, data: this.issueJson(issue) };
      }
    }
    if ((parts = /^\/issues\/(\d+)$/.exec(rest))) {
      const issue = this.issue(Number(parts[1]));
      if (method === 'GET') {
        this.require(grant, issue, 'read', 'issues/issues#get-an-issue');
        return { status: 200, data: this.issueJson(issue) };
      }
      if (method === 'PATCH') {
        this.require(grant, issue, 'write', 'issues/issues#update-an-issue');
        if ('body' in body) issue.body = this.checkBody(body, 'Issue', true);
        if (typeof body['title'] === 'string') issue.title = body['title'];
        if (body['state'] === 'closed' && issue.state === 'open') this.close(issue);
        else if (body['state'] === 'open') {
          issue.state = 'open';
          issue.closed_at = null;
        }        else if ('state' in body && body['state'] !== 'closed') throw invalid('Issue', 'state', 'invalid', 'state is not included in the list');
        if (Array.isArray(body['labels'])) issue.labels = body['labels'].map(String);
        issue.updated_at = this.now();
        return { status: 200, data: this.issueJson(issue) };
      }
    }
    if ((parts = /^\/issues\/(\d+)\/labels$/.exec(rest)) && method === 'POST') {
      const issue = this.issue(Number(parts[1]));
      this.require(grant, issue, 'write', 'issues/labels#add-labels-to-an-issue');
      const labels = Array.isArray(body['labels']) ? body['labels'].map(String) : [];
      for (const label of labels) if (!issue.labels.includes(label)) issue.labels.push(label);
      return { status: 200, data: issue.labels.map((name) => labelJson(this.repository, name)) };
    }
    const git = this.gitRoute(method, url, rest, body, grant);
    if (git) return git;
    throw notFound();
  }

  /**
   * POST /graphql: the part of GitHub's GraphQL schema the action uses, parsed and validated by
   * graphql-js (a misspelt field or a missing argument is an error, as on GitHub). Types and
   * fields as in GitHub's public schema (docs.github.com/en/graphql/reference): Query.viewer,
   * Mutation.minimizeComment(input: MinimizeCommentInput!), ReportedContentClassifiers.
   */
  private async graphqlRoute(body: Record<string, unknown>, grant: TokenGrant): Promise<{ status: number; data: unknown; headers?: Record<string, string> }> {
    if (typeof body['query'] !== 'string') throw new HttpError(400, { message: 'A query attribute must be specified and must be a string.', documentation_url: DOCS });
    const variables = typeof body['variables'] === 'object' && body['variables'] !== null ? (body['variables'] as Record<string, unknown>) : {};
    const root = {
      viewer: () => ({ login: grant.login }),
      minimizeComment: ({ input }: { input: { subjectId: string; classifier: string; clientMutationId?: string } }) => {
        const [kind, id] = Buffer.from(input.subjectId, 'base64').toString('utf8').split(':');
        const comment = kind === 'IssueComment' ? this.comments.get(Number(id)) : undefined;
        if (!comment) throw new Error(`Could not resolve to a node with the global id of '${input.subjectId}'`);
        const issue = this.issue(comment.issue);
        const have = issue.pull_request ? grant.permissions.pull_requests : grant.permissions.issues;
        if (have !== 'write') throw new Error('Resource not accessible by integration');
        comment.minimized = input.classifier;
        return { clientMutationId: input.clientMutationId ?? null, minimizedComment: { __typename: 'IssueComment', isMinimized: true, minimizedReason: input.classifier.toLowerCase(), viewerCanMinimize: true } };
      },
    };
    const result = await graphql({ schema: graphqlSchema(), source: body['query'], rootValue: root, variableValues: variables });
    // GitHub answers GraphQL errors with 200 and an `errors` array.
    return { status: 200, data: result };
  }

  private requireContents(grant: TokenGrant, access: Exclude<Access, 'none'>, doc: string): void {
    const have = grant.permissions.contents ?? 'read';
    if (have === 'none' || (access === 'write' && have !== 'write')) throw forbidden(doc);
  }

  /** Git data (refs, commits, trees) and pull requests by head branch. */
  private gitRoute(method: string, url: URL, rest: string, body: Record<string, unknown>, grant: TokenGrant): { status: number; data?: unknown } | undefined {
    let parts: RegExpExecArray | null;
    const owner = this.repository.split('/')[0] ?? '';
    // Octokit sends the ref's slashes encoded (heads%2Fmain); GitHub decodes them.
    if ((parts = /^\/git\/(?:ref|refs)\/heads\/(.+)$/.exec(decodeURIComponent(rest)))) {
      const branch = parts[1] ?? '';
      const sha = this.refs.get(branch);
      if (method === 'GET') {
        this.requireContents(grant, 'read', 'git/refs#get-a-reference');
        if (!sha) throw notFound();
        return { status: 200, data: gitRefJson(this.repository, branch, sha) };
      }
      if (method === 'PATCH') {
        this.requireContents(grant, 'write', 'git/refs#update-a-reference');
        if (!sha) throw invalid('Reference', 'ref', 'invalid', 'Reference does not exist');
        const target = String(body['sha'] ?? '');
        if (!this.commits.has(target)) throw invalid('Reference', 'sha', 'invalid', 'Object does not exist');
        if (body['force'] !== true && !this.isAncestor(sha, target)) throw invalid('Reference', 'sha', 'invalid', 'Update is not a fast forward');
        this.refs.set(branch, target);
        this.pushed(branch, grant);
        return { status: 200, data: gitRefJson(this.repository, branch, target) };
      }
    }
    if (rest === '/git/refs' && method === 'POST') {
      this.requireContents(grant, 'write', 'git/refs#create-a-reference');
      const ref = String(body['ref'] ?? '');
      const sha = String(body['sha'] ?? '');
      if (!ref.startsWith('refs/heads/')) throw invalid('Reference', 'ref', 'invalid', 'Reference name must start with refs/heads/');
      if (this.refs.has(ref.slice('refs/heads/'.length))) throw invalid('Reference', 'ref', 'already_exists', 'Reference already exists');
      if (!this.commits.has(sha)) throw invalid('Reference', 'sha', 'invalid', 'Object does not exist');
      this.refs.set(ref.slice('refs/heads/'.length), sha);
      this.pushed(ref.slice('refs/heads/'.length), grant);
      return { status: 201, data: gitRefJson(this.repository, ref.slice('refs/heads/'.length), sha) };
    }
    if ((parts = /^\/git\/commits\/([0-9a-f]+)$/.exec(rest)) && method === 'GET') {
      this.requireContents(grant, 'read', 'git/commits#get-a-commit-object');
      const commit = this.commits.get(parts[1] ?? '');
      if (!commit) throw notFound();
      return { status: 200, data: gitCommitJson(this.repository, commit) };
    }
    if (rest === '/git/trees' && method === 'POST') {
      this.requireContents(grant, 'write', 'git/trees#create-a-tree');
      const base = body['base_tree'] === undefined ? new Map<string, string>() : this.trees.get(String(body['base_tree']));
      if (!base) throw invalid('Tree', 'base_tree', 'invalid', 'base_tree is not a tree');
      const files = new Map(base);
      for (const entry of Array.isArray(body['tree']) ? (body['tree'] as Record<string, unknown>[]) : []) {
        const path = String(entry['path'] ?? '');
        if (entry['mode'] !== '100644' || entry['type'] !== 'blob') throw invalid('Tree', 'tree', 'invalid', `tree.mode/type of ${path} are not a file's`);
        if (entry['sha'] === null) files.delete(path);
        else if (typeof entry['content'] === 'string') files.set(path, entry['content']);
        else throw invalid('Tree', 'tree', 'invalid', `tree entry ${path} has neither content nor sha: null`);
      }
      const sha = this.storeTree(files);
      return { status: 201, data: gitTreeJson(this.repository, sha, files) };
    }
    if (rest === '/git/commits' && method === 'POST') {
      this.requireContents(grant, 'write', 'git/commits#create-a-commit');
      const tree = String(body['tree'] ?? '');
      const parents = Array.isArray(body['parents']) ? body['parents'].map(String) : [];
      if (!this.trees.has(tree) || parents.some((sha) => !this.commits.has(sha))) throw invalid('Commit', 'tree', 'invalid', 'Tree or parent does not exist');
      const message = String(body['message'] ?? '');
      const sha = this.storeCommit({ message, tree, parents });
      return { status: 201, data: gitCommitJson(this.repository, { sha, message, tree, parents }) };
    }
    if (rest === '/pulls') {
      if (method === 'GET') {
        if (grant.permissions.pull_requests === 'none') throw forbidden('pulls/pulls#list-pull-requests');
        const state = url.searchParams.get('state') ?? 'open';
        const head = url.searchParams.get('head');
        const found = [...this.issues.values()].filter(
          (issue) => issue.pull_request && (state === 'all' || issue.state === state) && (!head || `${owner}:${issue.pull_request.head}` === head),
        );
        return this.page(url, found.map((issue) => this.pullJson(issue)));
      }
      if (method === 'POST') {
        if (grant.permissions.pull_requests !== 'write') throw forbidden('pulls/pulls#create-a-pull-request');
        // The repository setting, as GitHub words its refusal.
        if (grant.login === ACTIONS_BOT && !this.actionsMayCreatePullRequests)
          throw new HttpError(403, { message: 'GitHub Actions is not permitted to create or approve pull requests.', documentation_url: `${DOCS}/pulls/pulls#create-a-pull-request`, status: '403' });
        const head = String(body['head'] ?? '');
        const base = String(body['base'] ?? '');
        if (!this.refs.has(head)) throw invalid('PullRequest', 'head', 'invalid', 'head is invalid');
        if ([...this.issues.values()].some((issue) => issue.state === 'open' && issue.pull_request?.head === head))
          throw invalid('PullRequest', 'head', 'custom', `A pull request already exists for ${owner}:${head}.`);
        const pr = this.addPullRequest({ title: String(body['title'] ?? ''), base, head, headSha: this.refs.get(head) ?? '', user: { login: grant.login, type: grant.kind === 'installation' ? 'Bot' : 'User' } });
        pr.body = typeof body['body'] === 'string' ? this.checkBody(body, 'PullRequest', true) : '';
        if (grant.login !== ACTIONS_BOT) this.triggers.push({ event: 'pull_request', action: 'opened', number: pr.number, by: grant.login });
        return { status: 201, data: this.pullJson(pr, true) };
      }
    }
    if ((parts = /^\/pulls\/(\d+)$/.exec(rest)) && method === 'PATCH') {
      const issue = this.issue(Number(parts[1]));
      if (!issue.pull_request) throw notFound();
      if (grant.permissions.pull_requests !== 'write') throw forbidden('pulls/pulls#update-a-pull-request');
      if (typeof body['title'] === 'string') issue.title = body['title'];
      if ('body' in body) issue.body = this.checkBody(body, 'PullRequest', true);
      issue.updated_at = this.now();
      return { status: 200, data: this.pullJson(issue, true) };
    }
    return undefined;
  }

  /** A branch moved: a push event, unless GITHUB_TOKEN moved it. The head of a pull request moves with it. */
  private pushed(branch: string, grant: TokenGrant): void {
    for (const issue of this.issues.values()) if (issue.pull_request?.head === branch && issue.state === 'open') issue.pull_request.head_sha = this.refs.get(branch) ?? '';
    if (grant.login !== ACTIONS_BOT) this.triggers.push({ event: 'push', ref: `refs/heads/${branch}`, by: grant.login });
  }

  private issueJson(issue: EmulatedIssue) {
    return issueShape(this.repository, { ...issue, comments: this.commentsOn(issue.number).length, isPull: issue.pull_request !== undefined });
  }

  private pullJson(issue: EmulatedIssue, full = false) {
    const pull = issue.pull_request;
    if (!pull) throw notFound();
    return pullShape(
      this.repository,
      this.defaultBranch,
      { ...issue, ...pull, comments: this.commentsOn(issue.number).length, isPull: true, base_sha: this.refs.get(pull.base) ?? '0'.repeat(40) },
      full,
    );
  }

  private isAncestor(ancestor: string, sha: string): boolean {
    const queue = [sha];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const next = queue.pop() as string;
      if (next === ancestor) return true;
      if (seen.has(next)) continue;
      seen.add(next);
      for (const parent of this.commits.get(next)?.parents ?? []) queue.push(parent);
    }
    return false;
  }

  private issue(number: number): EmulatedIssue {
    const issue = this.issues.get(number);
    if (!issue) throw notFound();
    return issue;
  }

  /** Comments on a pull request need pull_requests permission; on an issue, issues permission. */
  private require(grant: TokenGrant, issue: EmulatedIssue, access: Exclude<Access, 'none'>, doc: string): void {
    const have = issue.pull_request ? grant.permissions.pull_requests : grant.permissions.issues;
    if (have === 'none' || (access === 'write' && have !== 'write')) throw forbidden(doc);
  }

  private checkBody(body: Record<string, unknown>, resource: string, optional = false): string {
    const text = body['body'];
    if (text === undefined || text === null) {
      if (optional) return '';
      throw invalid(resource, 'body', 'missing_field', 'body is missing');
    }
    if (typeof text !== 'string') throw invalid(resource, 'body', 'invalid', 'body is invalid');
    if (codePoints(text) > BODY_LIMIT) throw invalid(resource, 'body', 'custom', `body is too long (maximum is ${BODY_LIMIT} characters)`);
    return text;
  }

  /** per_page (default 30, at most 100) and page, with a Link header as GitHub sends it. */
  private page<T>(url: URL, items: T[]): { status: number; data: T[]; headers: Record<string, string> } {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (n: number, rel: string) => {
      const target = new URL(url.toString());
      target.searchParams.set('per_page', String(perPage));
      target.searchParams.set('page', String(n));
      return `<${this.url}${target.pathname}${target.search}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
    return { status: 200, data: items.slice((page - 1) * perPage, page * perPage), headers: links.length > 0 ? { link: links.join(', ') } : {} };
  }
}

let schema: GraphQLSchema | undefined;

function graphqlSchema(): GraphQLSchema {
  schema ??= buildSchema(`
    type Query { viewer: User! }
    type Mutation { minimizeComment(input: MinimizeCommentInput!): MinimizeCommentPayload }
    type User { login: String! }
    enum ReportedContentClassifiers { SPAM ABUSE OFF_TOPIC OUTDATED DUPLICATE RESOLVED }
    input MinimizeCommentInput { subjectId: ID! classifier: ReportedContentClassifiers! clientMutationId: String }
    interface Minimizable { isMinimized: Boolean! minimizedReason: String viewerCanMinimize: Boolean! }
    type IssueComment implements Minimizable { isMinimized: Boolean! minimizedReason: String viewerCanMinimize: Boolean! }
    type MinimizeCommentPayload { clientMutationId: String minimizedComment: Minimizable }
  `);
  return schema;
}

function notFound(): HttpError {
  return new HttpError(404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
}

function forbidden(doc: string): HttpError {
  return new HttpError(403, { message: 'Resource not accessible by integration', documentation_url: `${DOCS}/${doc}`, status: '403' });
}

function invalid(resource: string, field: string, code: string, message: string): HttpError {
  return new HttpError(422, { message: 'Validation Failed', errors: [{ resource, code, field, message }], documentation_url: DOCS, status: '422' });
}

function rateLimited(failure: InjectedFailure): HttpError {
  if (failure.primary)
    return new HttpError(
      failure.status,
      { message: 'API rate limit exceeded for installation.', documentation_url: DOCS, status: String(failure.status) },
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + failure.retryAfter), 'retry-after': String(failure.retryAfter) },
    );
  return new HttpError(
    failure.status,
    { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: DOCS, status: String(failure.status) },
    { 'retry-after': String(failure.retryAfter) },
  );
}
