"""The sandbox: a synthetic organisation, served as fake Jira, GitHub, Kubernetes and Prometheus on 127.0.0.1.

A test and demo tool beside teamtide, and a program of its own (`python -m sandbox`,
`cli`): teamtide runs it as a child process and never imports it.

- `world/`: the organisation's records (`model`), generated from a seed and a scale
  (`generate`, with one part per concern around a shared `context`), and the ground
  truth planted in them (`truth`);
- `jira/`, `github/`, `kube/`: the fake services (Kubernetes with its Prometheus);
- `http` (the state and middleware every service shares), `server` (Jira, GitHub and the
  admin routes on one HTTP server), `stack` (every service at once), `orgfile` (the org
  file that points teamtide at a served world) and `cli`.
"""
