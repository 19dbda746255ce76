"""One week's report as a whole: its figures with their headlines (`build`), every form
of it from those alone (`render`), and its stored copy (`publish`).

`build` is what `reports.summary` stores; a report re-rendered from it after a restart
is the report that was first sent. Once a week's report has been sent to anyone it is
frozen: `publish` renders the stored figures again, so every recipient gets the same
numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from config.schema import Config
from db import ledger, queries
from report import content
from report import html as html_form
from report import markdown as markdown_form
from report import text as text_form
from report.figures import figures
from report.headlines import headlines
from report.images import Images, render_images
from report.week_charts import figure_charts
from report.weeks import week_label


@dataclass
class Rendered:
    """One week's report in every form, from its stored figures."""

    figures: dict[str, Any]
    headlines: list[str]
    markdown: str
    images: Images

    @property
    def period(self) -> str:
        return str(self.figures["period"])

    @property
    def subject(self) -> str:
        return content.subject(self.figures, self.headlines)

    def text(self, first_team: str | None = None) -> str:
        return text_form.render(self.figures, self.headlines, first_team)

    def html(
        self,
        image_src: Callable[[str], str],
        first_team: str | None = None,
        dashboard_url: str | None = None,
    ) -> str:
        return html_form.render(
            self.figures,
            self.headlines,
            image_src,
            list(self.images.png),
            first_team,
            dashboard_url,
            self.images.error,
        )

    def markdown_for(self, first_team: str | None = None) -> str:
        return markdown_form.render(self.figures, self.headlines, first_team)

    def write(self, out: Path, dashboard_url: str | None = None) -> list[Path]:
        """As files: <week>.md, <week>.txt, <week>.html and its charts in <week>-images/."""
        out.mkdir(parents=True, exist_ok=True)
        stem = f"teamtide-report-{self.period}"
        images = out / f"{stem}-images"
        images.mkdir(exist_ok=True)
        for name, png in self.images.png.items():
            (images / f"{name}.png").write_bytes(png)
        files = {
            out / f"{stem}.md": self.markdown,
            out / f"{stem}.txt": self.text(),
            out / f"{stem}.html": self.html(
                lambda name: f"{images.name}/{name}.png", dashboard_url=dashboard_url
            ),
        }
        for path, written in files.items():
            path.write_text(written, encoding="utf-8")
        return [*files, images]


def render(figs: dict[str, Any], *, images: bool = True) -> Rendered:
    """Every form of the report from its figures (images: PNG charts, one browser session)."""
    lines = figs.get("headlines") or headlines(figs)
    pictures = render_images(figure_charts(figs)) if images else Images({}, 0.0)
    return Rendered(figs, lines, markdown_form.render(figs, lines), pictures)


def build(conn: Connection, config: Config, monday: dt.date, now: dt.datetime) -> dict[str, Any]:
    """The figures of a week with their headlines: what `reports.summary` stores."""
    figs = figures(conn, config, monday, now)
    figs["headlines"] = headlines(figs)
    return figs


def store(engine: Engine, rendered: Rendered) -> None:
    """Insert or replace the week's row in `reports` (its delivered_to is kept)."""
    ledger.store_report(
        engine,
        rendered.period,
        generated_at=dt.datetime.now(dt.UTC),
        body=rendered.markdown,
        html=rendered.html(lambda name: f"cid:{name}"),
        summary=rendered.figures,
    )


def publish(
    engine: Engine,
    config: Config,
    monday: dt.date,
    now: dt.datetime,
    *,
    force: bool = False,
    images: bool = True,
) -> tuple[Rendered, bool]:
    """The week's report, rendered and stored; (rendered, whether figures were computed anew).

    A report already sent to anyone is frozen: its stored figures are rendered again,
    unless `force`.
    """
    period = week_label(monday)
    with engine.connect() as conn:
        stored = queries.stored_report(conn, period)
        deliveries = queries.report_deliveries(conn, period)
    frozen = (
        stored is not None
        and stored.summary is not None
        and any(row["status"] != "pending" for row in deliveries)
    )
    if frozen and not force:
        assert stored is not None and stored.summary is not None
        return render(stored.summary, images=images), False
    with engine.connect() as conn:
        figs = build(conn, config, monday, now)
    rendered = render(figs, images=images)
    store(engine, rendered)
    return rendered, True
