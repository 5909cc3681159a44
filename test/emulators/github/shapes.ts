/**
 * The JSON the GitHub emulator answers with, field for field as GitHub's REST API sends it. The
 * fields are the ones GitHub's OpenAPI description (@octokit/openapi, api.github.com.json) marks
 * required for each response; test/github-openapi.test.ts validates every answer against it.
 */
import { createHash } from 'node:crypto';

export interface UserShape {
  login: string;
  type: 'User' | 'Bot';
}

const API = 'https://api.github.com';
const WEB = 'https://github.com';

function numericId(text: string): number {
  return Number.parseInt(createHash('sha1').update(text).digest('hex').slice(0, 8), 16);
}

function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`${kind}:${id}`).toString('base64');
}

export function userJson(user: UserShape) {
  const id = numericId(user.login);
  const url = `${API}/users/${encodeURIComponent(user.login)}`;
  return {
    login: user.login,
    id,
    node_id: nodeId(user.type, id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}`,
    gravatar_id: '',
    url,
    html_url: `${WEB}/${encodeURIComponent(user.login)}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: user.type,
    site_admin: false,
  };
}

/** GET /user: a personal token's own account (the private-user shape). */
export function authenticatedUserJson(user: UserShape) {
  return {
    ...userJson(user),
    name: user.login,
    company: null,
    blog: '',
    location: null,
    email: null,
    hireable: null,
    bio: null,
    public_repos: 1,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2020-01-01T00:00:00Z',
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: true,
  };
}

export function repositoryJson(fullName: string, defaultBranch: string) {
  const [owner = '', name = ''] = fullName.split('/');
  const url = `${API}/repos/${fullName}`;
  const id = numericId(fullName);
  const templated: Record<string, string> = {};
  for (const [key, suffix] of Object.entries({
    archive_url: '/{archive_format}{/ref}',
    assignees_url: '/assignees{/user}',
    blobs_url: '/git/blobs{/sha}',
    branches_url: '/branches{/branch}',
    collaborators_url: '/collaborators{/collaborator}',
    comments_url: '/comments{/number}',
    commits_url: '/commits{/sha}',
    compare_url: '/compare/{base}...{head}',
    contents_url: '/contents/{+path}',
    contributors_url: '/contributors',
    deployments_url: '/deployments',
    downloads_url: '/downloads',
    events_url: '/events',
    forks_url: '/forks',
    git_commits_url: '/git/commits{/sha}',
    git_refs_url: '/git/refs{/sha}',
    git_tags_url: '/git/tags{/sha}',
    hooks_url: '/hooks',
    issue_comment_url: '/issues/comments{/number}',
    issue_events_url: '/issues/events{/number}',
    issues_url: '/issues{/number}',
    keys_url: '/keys{/key_id}',
    labels_url: '/labels{/name}',
    languages_url: '/languages',
    merges_url: '/merges',
    milestones_url: '/milestones{/number}',
    notifications_url: '/notifications{?since,all,participating}',
    pulls_url: '/pulls{/number}',
    releases_url: '/releases{/id}',
    stargazers_url: '/stargazers',
    statuses_url: '/statuses/{sha}',
    subscribers_url: '/subscribers',
    subscription_url: '/subscription',
    tags_url: '/tags',
    teams_url: '/teams',
    trees_url: '/git/trees{/sha}',
  }))
    templated[key] = `${url}${suffix}`;
  return {
    id,
    node_id: nodeId('Repository', id),
    name,
    full_name: fullName,
    owner: userJson({ login: owner, type: 'User' }),
    private: true,
    html_url: `${WEB}/${fullName}`,
    description: null,
    fork: false,
    url,
    ...templated,
    clone_url: `${WEB}/${fullName}.git`,
    git_url: `git://github.com/${fullName}.git`,
    ssh_url: `git@github.com:${fullName}.git`,
    svn_url: `${WEB}/${fullName}`,
    mirror_url: null,
    homepage: null,
    language: null,
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 0,
    default_branch: defaultBranch,
    open_issues: 0,
    open_issues_count: 0,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_downloads: false,
    has_discussions: false,
    archived: false,
    disabled: false,
    license: null,
    pushed_at: '2026-01-01T00:00:00Z',
    created_at: '2020-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
  };
}

/** GET /repos/{owner}/{repo}: the full-repository shape. */
export function fullRepositoryJson(fullName: string, defaultBranch: string) {
  return { ...repositoryJson(fullName, defaultBranch), network_count: 0, subscribers_count: 0 };
}

export interface CommentShape {
  id: number;
  issue: number;
  body: string;
  user: UserShape;
  created_at: string;
  updated_at: string;
}

export function commentJson(repository: string, comment: CommentShape) {
  return {
    id: comment.id,
    node_id: nodeId('IssueComment', comment.id),
    url: `${API}/repos/${repository}/issues/comments/${comment.id}`,
    html_url: `${WEB}/${repository}/issues/${comment.issue}#issuecomment-${comment.id}`,
    issue_url: `${API}/repos/${repository}/issues/${comment.issue}`,
    body: comment.body,
    user: userJson(comment.user),
    created_at: comment.created_at,
    updated_at: comment.updated_at,
    author_association: comment.user.type === 'Bot' ? 'NONE' : 'MEMBER',
  };
}

export function labelJson(repository: string, name: string) {
  const id = numericId(`${repository}#${name}`);
  return { id, node_id: nodeId('Label', id), url: `${API}/repos/${repository}/labels/${encodeURIComponent(name)}`, name, description: null, color: 'ededed', default: false };
}

export interface IssueShape {
  number: number;
  title: string;
  body: string;
  state: 'open' | 'closed';
  labels: string[];
  user: UserShape;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  comments: number;
  isPull: boolean;
}

export function issueJson(repository: string, issue: IssueShape) {
  const url = `${API}/repos/${repository}/issues/${issue.number}`;
  const id = numericId(`${repository}#${issue.number}`);
  return {
    id,
    node_id: nodeId('Issue', id),
    url,
    repository_url: `${API}/repos/${repository}`,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${WEB}/${repository}/${issue.isPull ? 'pull' : 'issues'}/${issue.number}`,
    number: issue.number,
    state: issue.state,
    title: issue.title,
    body: issue.body,
    user: userJson(issue.user),
    labels: issue.labels.map((name) => labelJson(repository, name)),
    assignee: null,
    milestone: null,
    locked: false,
    comments: issue.comments,
    created_at: issue.created_at,
    updated_at: issue.updated_at,
    closed_at: issue.closed_at,
    author_association: 'MEMBER',
    ...(issue.isPull
      ? { pull_request: { url: `${API}/repos/${repository}/pulls/${issue.number}`, html_url: `${WEB}/${repository}/pull/${issue.number}`, diff_url: null, patch_url: null } }
      : {}),
  };
}

export interface PullShape extends IssueShape {
  merged_at: string | null;
  merge_commit_sha: string | null;
  base: string;
  base_sha: string;
  head: string;
  head_sha: string;
  head_repository: string;
}

/** The pull-request-simple shape (lists); `full` adds pull-request's fields (GET, POST, PATCH one). */
export function pullJson(repository: string, defaultBranch: string, pull: PullShape, full = false) {
  const url = `${API}/repos/${repository}/pulls/${pull.number}`;
  const issue = `${API}/repos/${repository}/issues/${pull.number}`;
  const html = `${WEB}/${repository}/pull/${pull.number}`;
  const id = numericId(`${repository}!${pull.number}`);
  const side = (ref: string, sha: string, repo: string) => {
    const owner = repo.split('/')[0] ?? '';
    return { label: `${owner}:${ref}`, ref, sha, user: userJson({ login: owner, type: 'User' }), repo: repositoryJson(repo, defaultBranch) };
  };
  const link = (href: string) => ({ href });
  const simple = {
    id,
    node_id: nodeId('PullRequest', id),
    url,
    html_url: html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issue,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${API}/repos/${repository}/pulls/comments{/number}`,
    comments_url: `${issue}/comments`,
    statuses_url: `${API}/repos/${repository}/statuses/${pull.head_sha}`,
    number: pull.number,
    state: pull.state,
    locked: false,
    title: pull.title,
    user: userJson(pull.user),
    body: pull.body,
    labels: pull.labels.map((name) => labelJson(repository, name)),
    milestone: null,
    assignee: null,
    created_at: pull.created_at,
    updated_at: pull.updated_at,
    closed_at: pull.closed_at,
    merged_at: pull.merged_at,
    merge_commit_sha: pull.merge_commit_sha,
    head: side(pull.head, pull.head_sha, pull.head_repository),
    base: side(pull.base, pull.base_sha, repository),
    _links: {
      self: link(url),
      html: link(html),
      issue: link(issue),
      comments: link(`${issue}/comments`),
      review_comments: link(`${url}/comments`),
      review_comment: link(`${API}/repos/${repository}/pulls/comments{/number}`),
      commits: link(`${url}/commits`),
      statuses: link(`${API}/repos/${repository}/statuses/${pull.head_sha}`),
    },
    author_association: pull.user.type === 'Bot' ? 'NONE' : 'MEMBER',
    auto_merge: null,
    draft: false,
  };
  if (!full) return simple;
  return {
    ...simple,
    merged: pull.merged_at !== null,
    mergeable: pull.state === 'open' ? true : null,
    mergeable_state: pull.state === 'open' ? 'clean' : 'unknown',
    merged_by: pull.merged_at !== null ? userJson({ login: 'octocat', type: 'User' }) : null,
    maintainer_can_modify: false,
    comments: pull.comments,
    review_comments: 0,
    commits: 1,
    additions: 1,
    deletions: 0,
    changed_files: 1,
  };
}

export function gitRefJson(repository: string, branch: string, sha: string) {
  return {
    ref: `refs/heads/${branch}`,
    node_id: nodeId('Ref', `${repository}:${branch}`),
    url: `${API}/repos/${repository}/git/refs/heads/${branch}`,
    object: { type: 'commit', sha, url: `${API}/repos/${repository}/git/commits/${sha}` },
  };
}

export function gitCommitJson(repository: string, commit: { sha: string; message: string; tree: string; parents: string[] }) {
  const who = { name: 'metaform', email: 'metaform@example.com', date: '2026-01-01T00:00:00Z' };
  return {
    sha: commit.sha,
    node_id: nodeId('Commit', commit.sha),
    url: `${API}/repos/${repository}/git/commits/${commit.sha}`,
    html_url: `${WEB}/${repository}/commit/${commit.sha}`,
    author: who,
    committer: who,
    message: commit.message,
    tree: { sha: commit.tree, url: `${API}/repos/${repository}/git/trees/${commit.tree}` },
    parents: commit.parents.map((sha) => ({ sha, url: `${API}/repos/${repository}/git/commits/${sha}`, html_url: `${WEB}/${repository}/commit/${sha}` })),
    verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
  };
}

export function gitTreeJson(repository: string, sha: string, files: ReadonlyMap<string, string>) {
  return {
    sha,
    url: `${API}/repos/${repository}/git/trees/${sha}`,
    truncated: false,
    tree: [...files].map(([path, content]) => {
      const blob = createHash('sha1').update(`blob ${Buffer.byteLength(content)}\0${content}`).digest('hex');
      return { path, mode: '100644', type: 'blob', sha: blob, size: Buffer.byteLength(content), url: `${API}/repos/${repository}/git/blobs/${blob}` };
    }),
  };
}
