"""The org file: its schema (`schema`), reading it with every problem at once (`load`,
`document`, `checks`) and showing it to people with secrets masked (`display`).

The bottom layer: every other package reads configuration from here, and this package
imports nothing else of teamtide's.
"""
