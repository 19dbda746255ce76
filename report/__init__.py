"""The weekly report: its figures, headlines and wording, its renderings (Markdown, text,
HTML, chat) and its delivery by e-mail and webhook; and the plotly charts it shares with
the dashboard, so a chart reads the same on a page and in an inbox.
"""
