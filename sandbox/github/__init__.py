"""The fake GitHub REST API: repositories, pull requests, reviews and issue events as of the world's clock.

Paths, JSON shapes, `Link` paging, rate-limit headers, ETags and error bodies follow
api.github.com (checked against real recorded responses, see tests/realdata.py, and
GitHub's REST reference) so that PyGithub, pointed at `http://127.0.0.1:PORT/github` as
a GitHub Enterprise base URL, works unchanged. Every URL in a body or a `Link` header is
absolute and points back at the host and prefix the request came in on; like the real
API, `Link` headers name repositories by id (`/repositories/{id}/pulls?page=2`).

The world model has no GitHub issues, so the issue endpoints list pull requests (as the
real API does, with a `pull_request` key). The primary rate limit counts on wall-clock
time (`SandboxState.rate_budgets["github"]`) because clients compare `X-RateLimit-Reset`
with their own clock.

`formats` holds identifiers and formats, `index` the world indexed once and its state at
one clock value, `shapes` and `pulls` the JSON of each thing, `paging` requests,
responses and `Link` paging, `limits` authentication and the primary rate limit, and
`service` the endpoints and the app (`service.app`).
"""
