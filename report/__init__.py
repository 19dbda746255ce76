"""The weekly report: its figures, headlines and wording, its renderings (Markdown, text,
HTML, chat) and its delivery by e-mail and webhook; and the plotly charts it shares with
the dashboard, so a chart reads the same on a page and in an inbox.

A week's report flows through its modules in this order:

- `weeks`: which week (ISO `2025-W26`, or the last that ended)
- `figures`: its numbers, read through `metrics.reading`; what `reports.summary` stores
- `headlines`: what changed, ranked; `wording`: how a figure is said in English
- `content`: the title, rows and sentences; `outline`: which of them, in what order
- `markdown`, `text`, `html`, `webhook`, `mail`: the forms; `week_charts`, `images`:
  its charts as plotly figures and as PNG
- `weekly`: the report as a whole (built, rendered, stored)
- `recipients`, `delivery`: who gets it, and sending it once each, retried and recorded

`charts` holds the plotly chart builders every dashboard page uses too.
"""
