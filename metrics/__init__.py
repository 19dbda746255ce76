"""The metrics engine: pure functions from DataFrames (see `frames`) to metrics; no I/O.

Where things are computed: `stages` (status -> stage, stage timelines), `timeline`
(who held an item when), `turnaround` (cycle, lead, active time; PR review times),
`support` (first response, resolution, SLA), `allocation` (person-day attribution),
`load` (work in progress, floods and droughts), `concentration`, `coupling`,
`compare` (before/after a reorg), `summary` (the `teamtide metrics` report) and
`tables` (its tidy CSV tables). `facts.Facts` derives the shared tables once.
"""
