"""Each metric's definition in plain words (short forms of docs/metrics.md), one click away on every page."""

from __future__ import annotations

DEFINITIONS: dict[str, str] = {
    "allocation": (
        "**Work allocation** splits each person's weekday (Mon-Fri, org timezone) evenly across what "
        "they worked on that day: the work items in an *active* status while assigned to them at any "
        "moment of the day, plus their open, non-draft pull requests not linked to one of those items. "
        "Each thing takes the category of the first matching rule of the org file (else *uncategorized*); "
        "a day with nothing is *no tracked work*. Five weekdays make 1.0 FTE; a team's week sums the "
        "people who were members on each day."
    ),
    "unplanned": (
        "**Unplanned work** is the share of allocated time spent on items matching the org file's "
        "`unplanned` rule (by default bugs, support requests and items labelled `interrupt`)."
    ),
    "cycle_time": (
        "**Cycle time** runs from the first time an item entered an *active* or *waiting* status to the "
        "last time it entered *done*; only for items that are done. An item done without ever being "
        "started has none. **Lead time** runs from creation to the same end."
    ),
    "flow_efficiency": (
        "**Active time** is the time an item spent in *active* statuses (waiting excluded); "
        "**flow efficiency** is the finished items' total active time divided by their total "
        "cycle time (per item, the same ratio has a distribution whose median is often 100%: "
        "most items are never blocked)."
    ),
    "pr": (
        "**PR time to first review** runs from the moment a pull request was ready for review "
        "(created, or left draft) to the first review by someone other than its author. **Time to merge** "
        "runs from creation to merge, and splits into draft (created to ready), pickup (ready to first "
        "review) and review (first review to merge)."
    ),
    "support": (
        "**Support requests** are the items matching the org file's `support` rule. The requesting team is "
        "the reporter's team when it was created; the serving team is the assignee's team when it was done "
        "(or, while open, the current assignee's). **First response** runs from creation to the first "
        "comment or status change by someone other than the reporter; **resolution** to done. A request "
        "breaches its SLA when it took longer than its priority's target, or is still open past it."
    ),
    "load": (
        "**Load** is a team's work in progress per person: the time-averaged number of items in an *active* "
        "status assigned to its members in a week, divided by the average number of members. The "
        "**baseline** is the median weekly load of the window. A week is a **flood** at 1.5x the baseline "
        "or more and a **drought** at 0.5x or less (factors set in the org file)."
    ),
    "concentration": (
        "**Concentration** shows who quietly carries the floods: the share of a team's support and unplanned "
        "work absorbed by its busiest member, and the Gini coefficient of that work across members."
    ),
    "forecast": (
        "**Load forecast**: each team's expected weekly load (work in progress per person) for the "
        "next 12 weeks, from a small state-space model of its own history (a level, slowly moving "
        "or constant, whichever fits better; "
        "its demand cycle, whose period and shape are found in the data, and the support demand of "
        "the team it serves when that demand leads its load by a week or more and improves the "
        "fit), scaled for members joining or leaving and "
        "raised where work already committed to a sprint needs more. The bands hold the load with "
        "80% and 95% probability. **p(flood)** is the chance the week's load reaches the team's "
        "flood threshold. **Accuracy** comes from a backtest: forecasts made from each of the last "
        "26 weeks, compared with what happened. It measures the way the model is chosen (level, "
        "cycle shape and demand picked on the weeks before the first of those forecasts); the "
        "forecast shown picks them again on every week. **MASE** is the forecast's mean absolute error "
        "divided by that of a seasonal-naive forecast (the week one cycle earlier): below 1 the "
        "model is better; where it is not, the page shows the naive forecast. **Coverage** is the "
        "share of outcomes that fell inside the 80% band (80% is honest)."
    ),
    "coupling": (
        "**Demand coupling**: the weekly count of support requests from one team served by another, "
        "correlated (Pearson) with the serving team's load 0 to 4 weeks later; the best lag and its r."
    ),
    "reorg": (
        "**Before/after a reorg** compares each turnaround metric's samples before and after the reorg date: "
        "medians, relative change, a 95% bootstrap confidence interval of the difference of medians and the "
        "Mann-Whitney U p-value. A change whose interval includes zero is reported as no detectable change."
    ),
    "cluster": (
        "**Cluster** figures come from the data scientists' Kubernetes cluster: CPU and GPU hours requested by "
        "running pods per team, hours GPU pods waited pending for capacity, and infrastructure events."
    ),
    "ageing": (
        "**Ageing work in progress** lists the items that have started (entered an *active* or *waiting* "
        "status) and are not done, oldest first; the age runs from the first start to the moment the data "
        "describes. The team is the current assignee's team."
    ),
    "as_of": (
        "**Data as of** is the last successful sync: open items' ages and open requests' waits are measured "
        "to that moment, so a paused sync never makes work look older than it was when last seen. The "
        "window is widened to whole ISO weeks (Monday to Sunday) in the org timezone."
    ),
    "whatif": (
        "**Structure what-if** replays recent weeks of demand (the items each team really worked on, "
        "each holding a lane of its team for its active time) through another structure with simpy: "
        "people moved, work routed, teams split or merged. Each member brings as many lanes as their "
        "team's peak work in progress per person; an item waits when every lane is taken. 200 runs "
        "resample the weeks' items; results are shown against the **no-change baseline**, whose "
        "distance from what happened (the calibration) is shown too. A request's pickup scales with "
        "the serving team's share of time on requests.\n\n"
        "**Delivery forecast**: 10,000 runs of the team's weekly throughput per FTE in the scope's "
        "categories, resampled, times its FTE there (plus your change) and the scope's share of that "
        "work, with the scope's growth resampled; P50/P85/P95 completion dates. The **backtest** "
        "forecasts every finished epic at its midpoint: about 85% should be done by their P85 date."
    ),
}
