"""The forecast in the report's words: only what the backtest supports is claimed."""

from __future__ import annotations

from typing import Any

from report.forecast_words import coming_weeks, forecast_drivers, near_accuracy

MONDAYS = [f"2025-12-{d:02d}" for d in (1, 8, 15, 22, 29)]  # ISO weeks 49 to 52, then 2026-W01


def team(
    p_flood: list[float],
    model: str = "state-space (local level + 8-week cycle + Research demand at lag 3)",
    mase: float | None = 0.6,
    used: bool = True,
) -> dict[str, Any]:
    return {
        "team": "Infra",
        "model": model,
        "weeks": [
            {"week": w, "expected": 1.0, "p_flood": p, "p_drought": 0.0}
            for w, p in zip(MONDAYS, p_flood, strict=True)
        ],
        "drivers": {
            "period_weeks": 8,
            "period_found_in": "org",
            "serving": {"requesting_team": "Research", "lag_weeks": 3, "r": 0.61, "used": used},
            "members_now": 4.0,
            "headcount_changes": [{"week": "2025-12-15", "members": 6.0}],
            "committed_items": 5,
        },
        "backtest": {
            "mase_mean": mase,
            "horizons": [
                {"horizon": 1, "mase": 0.5, "coverage_80": 0.8},
                {"horizon": 2, "mase": 0.7, "coverage_80": 0.9},
            ],
        },
    }


def test_a_likely_flood_names_its_weeks_its_odds_and_its_driver() -> None:
    line = coming_weeks(team([0.1, 0.55, 0.7, 0.6, 0.2]))
    # weeks 2-4 (ISO 50 to 52) reach 0.5; the highest p is 0.7.
    assert line == (
        "Infra: likely flood in weeks 50 to 52, p = 0.7, driven by Research demand 3 weeks "
        "earlier (r = 0.61) (backtest: error 0.60 x naive's)."
    )


def test_a_naive_forecast_says_so_and_claims_no_driver() -> None:
    line = coming_weeks(team([0.9, 0.1, 0.1, 0.1, 0.1], model="seasonal naive", mase=1.2))
    assert line == (
        "Infra: likely flood in week 49, p = 0.9 (seasonal-naive forecast: the model does "
        "not beat it)."
    )


def test_nothing_likely_says_so() -> None:
    line = coming_weeks(team([0.1] * 5))
    assert line == (
        "Infra: no flood or drought likely in the next 5 weeks (backtest: error 0.60 x naive's)."
    )


def test_drivers_in_one_line() -> None:
    assert forecast_drivers(team([0.1] * 5)) == (
        "Drivers: a cycle of 8 weeks (found in the org's load); support requests: Research "
        "demand 3 weeks earlier (r = 0.61); 6 members from 15 Dec; 5 items committed in sprints."
    )


def test_near_accuracy_averages_the_first_horizons() -> None:
    # (0.5 + 0.7) / 2 = 0.6; (0.8 + 0.9) / 2 = 0.85
    mase, coverage = near_accuracy(team([0.1] * 5))
    assert (round(mase, 6), round(coverage, 6)) == (0.6, 0.85)


def test_the_weekly_report_has_a_coming_weeks_line_per_team(report_world) -> None:
    from report import content, weekly
    from tests.report.helpers import week_figures

    _, config = report_world.write_config()
    figs = week_figures(config)
    forecasts = {f["team"]: f for f in figs["forecast"]}
    assert set(forecasts) == {t["team"] for t in figs["teams"]}
    assert all("history" not in f for f in forecasts.values())  # kept small in the database
    text = weekly.render(figs, images=False).text()
    shown = [t["team"] for t in figs["teams"] if t["team"] not in content.idle_teams(figs)]
    assert shown  # Squad, gone in the reorg, has no section; the others each have a line
    for name in shown:
        assert coming_weeks(forecasts[name]) in text
    assert text.count("Coming weeks") == len(shown)
