"""The fake Jira REST API (Cloud, or Server/Data Center on request), served from the sandbox world.

Mounted at `/jira`, so the `jira` client connects with `server="http://127.0.0.1:PORT/jira"`.
Shapes, defaults, caps and error bodies follow the Jira Cloud platform REST API v2/v3
reference (OpenAPI `swagger-v3.v3.json`) and the recorded real responses (not in the repository; see tests/realdata.py);
quirks that documentation states or users report are imitated on purpose:

- `search/jql` pages with `nextPageToken` (omitted on the last page) and `isLast`, returns
  only issue ids unless `fields` asks for more, refuses unbounded queries, and caps
  `expand=changelog` at the 40 most recent histories (`total` still counts them all);
  issue GET caps the inline changelog at 100. The rest comes from `/issue/{id}/changelog`
  and `/changelog/bulkfetch`.
- the old `/search` answers 410 Gone on Cloud; on Server it is the only search (startAt/total),
  and Server has no v3, no `search/jql`, no changelog endpoints: its inline changelog is complete.
- timestamps are rendered in the caller's profile timezone, and JQL dates are read in it.

The world holds whole histories; everything is shown as of `world.clock`. Per-issue
timelines are built once (`data.JiraData`), a `data.Snapshot` per clock value holds the
visible prefix and the issues sorted by `updated`, and query results are cached per
snapshot so paging is a slice. `schema` holds what Jira declares (fields, limits,
versions), `protocol` how requests and answers are read and written, `render` the JSON
of each thing, `jql` the query language, and `service` the endpoints (`service.app`).
"""
