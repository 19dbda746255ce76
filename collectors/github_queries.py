"""Every GraphQL document the GitHub collector sends, in one place so a test validates them all.

Each asks for `rateLimit` too: its `cost` and `remaining` pace the sync. Pull requests are
read newest-updated first, like the REST list, with what the REST path needs three
requests for (list, timeline, detail) in one page: reviews and draft exits come from
`timelineItems` filtered to those three kinds (in order, as the REST timeline), sizes
from `additions`/`deletions`. A pull request whose timeline or labels overflow the inner
page is completed through `node(id:)` with the connection's own cursor.
"""

from __future__ import annotations

RATE_LIMIT = "rateLimit { limit cost remaining resetAt used nodeCount }"

# What the REST path reads from a listed pull request, its timeline and its detail.
PULL_FIELDS = """
  id
  number
  fullDatabaseId
  title
  headRefName
  author { login }
  state
  isDraft
  createdAt
  updatedAt
  mergedAt
  closedAt
  additions
  deletions
  url
"""

TIMELINE_ITEM = """
  __typename
  ... on PullRequestReview {
    fullDatabaseId
    author { login }
    state
    submittedAt
  }
  ... on ReadyForReviewEvent { createdAt }
  ... on ConvertToDraftEvent { createdAt }
"""

TIMELINE_TYPES = "[PULL_REQUEST_REVIEW, READY_FOR_REVIEW_EVENT, CONVERT_TO_DRAFT_EVENT]"

PAGE_INFO = "pageInfo { hasNextPage endCursor }"

# An organisation's repositories, with how many pull requests each holds (the estimate).
ORG_REPOSITORIES = f"""
query OrgRepositories($login: String!, $after: String) {{
  {RATE_LIMIT}
  organization(login: $login) {{
    repositories(first: 100, after: $after, orderBy: {{field: NAME, direction: ASC}}) {{
      {PAGE_INFO}
      nodes {{ nameWithOwner pullRequests(first: 1) {{ totalCount }} }}
    }}
  }}
}}
"""

# One page of a repository's pull requests, newest-updated first, each nearly complete.
PULLS = f"""
query Pulls($owner: String!, $name: String!, $first: Int!, $after: String,
            $inner: Int!) {{
  {RATE_LIMIT}
  repository(owner: $owner, name: $name) {{
    pullRequests(first: $first, after: $after,
                 orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
      totalCount
      {PAGE_INFO}
      nodes {{
        {PULL_FIELDS}
        labels(first: $inner) {{ {PAGE_INFO} nodes {{ name }} }}
        timelineItems(first: $inner, itemTypes: {TIMELINE_TYPES}) {{
          {PAGE_INFO}
          nodes {{ {TIMELINE_ITEM} }}
        }}
      }}
    }}
  }}
}}
"""

# The rest of one pull request's timeline, after the part its page held.
MORE_TIMELINE = f"""
query MoreTimeline($id: ID!, $after: String!, $first: Int!) {{
  {RATE_LIMIT}
  node(id: $id) {{
    ... on PullRequest {{
      timelineItems(first: $first, after: $after, itemTypes: {TIMELINE_TYPES}) {{
        {PAGE_INFO}
        nodes {{ {TIMELINE_ITEM} }}
      }}
    }}
  }}
}}
"""

# The rest of one pull request's labels.
MORE_LABELS = f"""
query MoreLabels($id: ID!, $after: String!, $first: Int!) {{
  {RATE_LIMIT}
  node(id: $id) {{
    ... on PullRequest {{
      labels(first: $first, after: $after) {{ {PAGE_INFO} nodes {{ name }} }}
    }}
  }}
}}
"""

# How many pull requests some repositories hold: one cheap query for up to `COUNT_BATCH`.
COUNT_BATCH = 50


def count_pulls(repos: list[str]) -> tuple[str, dict[str, str]]:
    """A query counting each repository's pull requests, one alias each, and its variables."""
    if not repos:
        raise ValueError("no repositories to count")
    params, fields, variables = [], [], {}
    for i, full_name in enumerate(repos):
        owner, _, name = full_name.partition("/")
        params.append(f"$o{i}: String!, $n{i}: String!")
        fields.append(
            f"r{i}: repository(owner: $o{i}, name: $n{i}) {{ pullRequests(first: 1) {{ totalCount }} }}"
        )
        variables[f"o{i}"], variables[f"n{i}"] = owner, name
    query = (
        f"query CountPulls({', '.join(params)}) {{\n  {RATE_LIMIT}\n  "
        + "\n  ".join(fields)
        + "\n}\n"
    )
    return query, variables


FIXED = {
    "OrgRepositories": ORG_REPOSITORIES,
    "Pulls": PULLS,
    "MoreTimeline": MORE_TIMELINE,
    "MoreLabels": MORE_LABELS,
}
