"""Every form walks one outline: the same sections in the same order, the charts by name."""

from __future__ import annotations

from report import outline, week_charts, weekly
from tests.report.helpers import week_figures


def test_markdown_text_and_html_show_the_teams_in_the_outlines_order(report_world) -> None:
    _, config = report_world.write_config()
    figs = week_figures(config)
    rendered = weekly.render(figs, images=False)
    teams = [
        block.name
        for block in outline.outline(figs, rendered.headlines)
        if isinstance(block, outline.TeamHeading)
    ]
    assert len(teams) >= 2
    lead = teams[-1]  # a lead's own team comes first, in every form
    blocks = outline.outline(figs, rendered.headlines, lead)
    ordered = [b.name for b in blocks if isinstance(b, outline.TeamHeading)]
    assert ordered == [lead, *teams[:-1]]
    forms = {
        "markdown": (rendered.markdown_for(lead), "## {}\n"),
        "text": (rendered.text(lead), "\n{}\n-"),
        "html": (rendered.html(lambda name: name, lead), ">{}</h2>"),
    }
    for form, (said, heading) in forms.items():
        where = [
            said.index(heading.format(name.upper() if form == "text" else name)) for name in ordered
        ]
        assert where == sorted(where), form
        org = said.index(
            {"markdown": "## The org", "text": "THE ORG", "html": ">The org</h2>"}[form]
        )
        assert org < where[0], form


def test_every_chart_drawn_has_its_place_in_the_outline(report_world) -> None:
    _, config = report_world.write_config()
    figs = week_figures(config)
    placed = [
        b.name for b in outline.outline(figs, figs["headlines"]) if isinstance(b, outline.Chart)
    ]
    drawn = list(week_charts.figure_charts(figs))
    assert drawn and set(drawn) <= set(placed)
    assert [name for name in placed if name in drawn] == drawn  # the page shows them in order
