"""The JSON of users, organisations, repositories and labels, with the request's view and URLs (`Ctx`)."""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import dataclass, field

from sandbox.github.formats import Json, fake_sha, iso_time, node_id, stable_id, to_second, user_id
from sandbox.github.index import Index, RepoInfo, View
from sandbox.world.model import World


@dataclass
class Ctx:
    """One request's view plus the absolute URLs to write into bodies."""

    api: str  # e.g. http://127.0.0.1:8123/github
    web: str  # e.g. http://127.0.0.1:8123 (where GitHub Enterprise serves HTML)
    view: View
    malformed: bool
    _users: dict[str, Json] = field(default_factory=dict)
    _repos: dict[int, Json] = field(default_factory=dict)

    @property
    def index(self) -> Index:
        return self.view.index

    @property
    def world(self) -> World:
        return self.view.index.world

    def repo_url(self, info: RepoInfo) -> str:
        return f"{self.api}/repos/{info.repo.full_name}"

    def repo(self, info: RepoInfo) -> Json:
        """The repository as nested in pulls; built once per request, shared by its pulls."""
        if info.repo.id not in self._repos:
            self._repos[info.repo.id] = _repo_core(self, info)
        return self._repos[info.repo.id]

    def user(self, login: str) -> Json:
        """The simple-user object (as in `user`, `actor`, `owner`)."""
        if login not in self._users:
            org = login.lower() in self.index.orgs
            ident = self.index.org_id(login) if org else user_id(login)
            url = f"{self.api}/users/{login}"
            self._users[login] = {
                "login": login,
                "id": ident,
                "node_id": node_id("Organization" if org else "User", ident),
                "avatar_url": f"{self.web}/avatars/u/{ident}?v=4",
                "gravatar_id": "",
                "url": url,
                "html_url": f"{self.web}/{login}",
                "followers_url": f"{url}/followers",
                "following_url": f"{url}/following{{/other_user}}",
                "gists_url": f"{url}/gists{{/gist_id}}",
                "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
                "subscriptions_url": f"{url}/subscriptions",
                "organizations_url": f"{url}/orgs",
                "repos_url": f"{url}/repos",
                "events_url": f"{url}/events{{/privacy}}",
                "received_events_url": f"{url}/received_events",
                "type": "Organization" if org else "User",
                "user_view_type": "public",
                "site_admin": False,
            }
        return self._users[login]


def association(ctx: Ctx, login: str) -> str:
    person = ctx.index.people.get(login.lower())
    return "MEMBER" if person is not None and person.in_org_file else "CONTRIBUTOR"


def user_detail(ctx: Ctx, login: str) -> Json:
    """`GET /users/{login}`: the public profile."""
    person = ctx.index.people.get(login.lower())
    created = iso_time(ctx.world.start - dt.timedelta(days=400 + stable_id(login) % 2000))
    return {
        **ctx.user(login),
        "name": person.name if person else None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": stable_id("followers", login) % 40,
        "following": stable_id("following", login) % 40,
        "created_at": created,
        "updated_at": iso_time(to_second(ctx.world.start)),
    }


def authenticated_user(ctx: Ctx) -> Json:
    """`GET /user`: the bot the collectors authenticate as, with the private fields."""
    login = ctx.world.bot_account
    body = user_detail(ctx, login)
    body.pop("user_view_type", None)
    return {
        **body,
        "private_gists": 0,
        "total_private_repos": len(ctx.index.repos),
        "owned_private_repos": 0,
        "disk_usage": 0,
        "collaborators": 0,
        "two_factor_authentication": True,
        "plan": {"name": "free", "space": 976562499, "collaborators": 0, "private_repos": 10000},
    }


def organization(ctx: Ctx, login: str) -> Json:
    ident = ctx.index.org_id(login)
    url = f"{ctx.api}/orgs/{login}"
    repos = [i for i in ctx.index.repos.values() if i.owner.lower() == login.lower()]
    return {
        "login": login,
        "id": ident,
        "node_id": node_id("Organization", ident),
        "url": url,
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events",
        "hooks_url": f"{url}/hooks",
        "issues_url": f"{url}/issues",
        "members_url": f"{url}/members{{/member}}",
        "public_members_url": f"{url}/public_members{{/member}}",
        "avatar_url": f"{ctx.web}/avatars/u/{ident}?v=4",
        "description": None,
        "name": login,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "twitter_username": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{ctx.web}/{login}",
        "created_at": iso_time(
            min((i.created_at for i in repos), default=to_second(ctx.world.start))
        ),
        "updated_at": iso_time(to_second(ctx.world.start)),
        "archived_at": None,
        "type": "Organization",
    }


def _repo_core(ctx: Ctx, info: RepoInfo) -> Json:
    """A repository as nested in `head.repo` and `base.repo` of a pull request."""
    repo = info.repo
    url, html = ctx.repo_url(info), f"{ctx.web}/{repo.full_name}"
    open_count = ctx.view.open_count(info)
    pushed = iso_time(ctx.view.pushed_at(info))
    return {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": info.name,
        "full_name": repo.full_name,
        "private": True,
        "owner": ctx.user(info.owner),
        "html_url": html,
        "description": repo.description or None,
        "fork": False,
        "url": url,
        **{
            f"{name}_url": f"{url}/{path}"
            for name, path in (
                ("forks", "forks"),
                ("keys", "keys{/key_id}"),
                ("collaborators", "collaborators{/collaborator}"),
                ("teams", "teams"),
                ("hooks", "hooks"),
                ("issue_events", "issues/events{/number}"),
                ("events", "events"),
                ("assignees", "assignees{/user}"),
                ("branches", "branches{/branch}"),
                ("tags", "tags"),
                ("blobs", "git/blobs{/sha}"),
                ("git_tags", "git/tags{/sha}"),
                ("git_refs", "git/refs{/sha}"),
                ("trees", "git/trees{/sha}"),
                ("statuses", "statuses/{sha}"),
                ("languages", "languages"),
                ("stargazers", "stargazers"),
                ("contributors", "contributors"),
                ("subscribers", "subscribers"),
                ("subscription", "subscription"),
                ("commits", "commits{/sha}"),
                ("git_commits", "git/commits{/sha}"),
                ("comments", "comments{/number}"),
                ("issue_comment", "issues/comments{/number}"),
                ("contents", "contents/{+path}"),
                ("compare", "compare/{base}...{head}"),
                ("merges", "merges"),
                ("archive", "{archive_format}{/ref}"),
                ("downloads", "downloads"),
                ("issues", "issues{/number}"),
                ("pulls", "pulls{/number}"),
                ("milestones", "milestones{/number}"),
                ("notifications", "notifications{?since,all,participating}"),
                ("labels", "labels{/name}"),
                ("releases", "releases{/id}"),
                ("deployments", "deployments"),
            )
        },
        "created_at": iso_time(info.created_at),
        "updated_at": pushed,
        "pushed_at": pushed,
        "git_url": f"git://{urllib.parse.urlsplit(ctx.web).netloc}/{repo.full_name}.git",
        "ssh_url": f"git@{urllib.parse.urlsplit(ctx.web).hostname}:{repo.full_name}.git",
        "clone_url": f"{html}.git",
        "svn_url": html,
        "homepage": None,
        "size": 1000 + stable_id("size", repo.full_name) % 50_000,
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": "Python",
        "has_issues": True,
        "has_projects": True,
        "has_downloads": True,
        "has_wiki": False,
        "has_pages": False,
        "has_discussions": False,
        "forks_count": 0,
        "mirror_url": None,
        "archived": False,
        "disabled": False,
        "open_issues_count": open_count,
        "license": None,
        "allow_forking": False,
        "is_template": False,
        "web_commit_signoff_required": False,
        "topics": [],
        "visibility": "private",
        "forks": 0,
        "open_issues": open_count,
        "watchers": 0,
        "default_branch": "main",
    }


_PERMISSIONS = {"admin": False, "maintain": False, "push": False, "triage": False, "pull": True}


def repo_listed(ctx: Ctx, info: RepoInfo) -> Json:
    """A repository in `GET /orgs/{org}/repos` and `GET /user/repos`."""
    return {**_repo_core(ctx, info), "permissions": dict(_PERMISSIONS)}


def repo_full(ctx: Ctx, info: RepoInfo) -> Json:
    """`GET /repos/{owner}/{repo}`."""
    body = _repo_core(ctx, info)
    body.update(
        {
            "permissions": dict(_PERMISSIONS),
            "temp_clone_token": "",
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": True,
            "allow_update_branch": False,
            "use_squash_pr_title_as_default": False,
            "squash_merge_commit_message": "COMMIT_MESSAGES",
            "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
            "merge_commit_message": "PR_TITLE",
            "merge_commit_title": "MERGE_MESSAGE",
            "custom_properties": {},
            "network_count": 0,
            "subscribers_count": 1 + stable_id("watchers", info.repo.full_name) % 12,
        }
    )
    if info.owner.lower() in ctx.index.orgs:
        body["organization"] = ctx.user(info.owner)
    return body


def label_json(ctx: Ctx, info: RepoInfo, name: str) -> Json:
    ident = stable_id("label", info.repo.full_name, name)
    return {
        "id": ident,
        "node_id": node_id("Label", ident),
        "url": f"{ctx.repo_url(info)}/labels/{urllib.parse.quote(name)}",
        "name": name,
        "color": fake_sha("color", name)[:6],
        "default": False,
        "description": None,
    }
