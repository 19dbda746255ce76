"""Config rule matching (`categories`, `unplanned`, `support`) on work items and pull requests.

A `match` holds conditions; a rule matches when any condition matches, and the values
of a condition are alternatives. Jira items are matched on project, issue type,
labels, components and epic key; GitHub items (source "github") on `github_repos`
(glob on the item's `project`, the repository's full name) and `github_labels`. Pull
requests linked to a known work item take that item's results; others are matched on
repository (glob) and labels. All comparisons ignore case (Jira and GitHub names are
typed by hand in the org file).
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from itertools import chain

import numpy as np
import pandas as pd

from config.schema import CategoryRule, Config, Match
from metrics.frames import prepare

UNCATEGORIZED = "uncategorized"
NO_TRACKED_WORK = "no tracked work"
RULES: tuple[str, ...] = ("category", "unplanned", "support")


def category_names(config: Config) -> list[str]:
    """Every category a metric can report, in display order."""
    names = [rule.name for rule in config.categories]
    return [*dict.fromkeys(names), UNCATEGORIZED, NO_TRACKED_WORK]


def _folded(values: pd.Series) -> np.ndarray:
    """Casefolded strings (None for missing), folding each distinct value once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    folded = [u.casefold() if isinstance(u, str) else None for u in uniques]
    return np.array([*folded, None], dtype=object)[codes]


def _exploded(lists: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(row, casefolded value) pairs of a list column, folding each distinct value once."""
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    rows = np.repeat(np.arange(len(lists)), lengths)
    flat = np.fromiter(chain.from_iterable(lists), dtype=object, count=int(lengths.sum()))
    return rows, _folded(pd.Series(flat, dtype=object))


def _any_in(n: int, pairs: tuple[np.ndarray, np.ndarray], wanted: list[str]) -> np.ndarray:
    rows, values = pairs
    hit = np.zeros(n, bool)
    if wanted and len(values):
        hit[rows[pd.Series(values).isin({w.casefold() for w in wanted}).to_numpy()]] = True
    return hit


def _glob(values: np.ndarray, patterns: list[str]) -> np.ndarray:
    if not patterns or len(values) == 0:
        return np.zeros(len(values), bool)
    unique = pd.unique(pd.Series(values, dtype=object).dropna())
    folded = [p.casefold() for p in patterns]
    hits = {u for u in unique if any(fnmatchcase(u, p) for p in folded)}
    return pd.Series(values, dtype=object).isin(hits).to_numpy()


class _ItemFacets:
    """Casefolded item fields, computed once and shared by every rule."""

    def __init__(self, items: pd.DataFrame) -> None:
        self.n = len(items)
        self.github = (items["source"].astype(object).str.casefold() == "github").fillna(False)
        self.github = self.github.to_numpy(bool)
        self.project = _folded(items["project"])
        self.issue_type = _folded(items["issue_type"])
        self.epic = _folded(items["epic_key"])
        self.labels = _exploded(items["labels"])
        self.components = _exploded(items["components"])

    def match(self, match: Match) -> np.ndarray:
        def isin(values: np.ndarray, wanted: list[str]) -> np.ndarray:
            return pd.Series(values).isin({w.casefold() for w in wanted}).to_numpy()

        jira = (
            isin(self.project, match.jira_projects)
            | isin(self.issue_type, match.jira_issue_types)
            | isin(self.epic, match.jira_epics)
            | _any_in(self.n, self.labels, match.jira_labels)
            | _any_in(self.n, self.components, match.jira_components)
        )
        github = _glob(self.project, match.github_repos) | _any_in(
            self.n, self.labels, match.github_labels
        )
        return np.where(self.github, github, jira)


def _first_rule(n: int, matches: list[np.ndarray], rules: list[CategoryRule]) -> np.ndarray:
    category = np.full(n, UNCATEGORIZED, dtype=object)
    unset = np.ones(n, bool)
    for rule, hit in zip(rules, matches, strict=True):
        take = unset & hit
        category[take] = rule.name
        unset &= ~take
    return category


def item_rules(items: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Per item: category (first matching rule, else "uncategorized"), unplanned, support.

    Input: items. Output columns: item_id, category, unplanned (bool), support (bool).
    """
    items = prepare("items", items)
    facets = _ItemFacets(items)
    matches = [facets.match(rule.match) for rule in config.categories]
    return pd.DataFrame(
        {
            "item_id": items["item_id"].to_numpy(),
            "category": _first_rule(len(items), matches, config.categories),
            "unplanned": facets.match(config.unplanned.match),
            "support": facets.match(config.support.match),
        }
    )


def pull_rules(pulls: pd.DataFrame, items_rules: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Per pull request: linked_item_id (first linked id that is a known item, else None),
    category, unplanned, support.

    A linked PR takes its item's category and flags (it is part of that work); an
    unlinked one is matched on repository glob and labels.
    """
    pulls = prepare("pulls", pulls)
    n = len(pulls)
    known = pd.Index(items_rules["item_id"])
    lengths = np.fromiter((len(v) for v in pulls["linked_item_ids"]), np.int64, count=n)
    rows = np.repeat(np.arange(n), lengths)
    flat = [x for v in pulls["linked_item_ids"] for x in v]
    where = known.get_indexer(flat) if flat else np.array([], np.int64)
    linked = np.full(n, -1, np.int64)
    hit = where >= 0
    # `rows` ascends, so the first hit of each PR is where its row number first appears.
    hit_rows, hit_where = rows[hit], where[hit]
    first = np.r_[True, hit_rows[1:] != hit_rows[:-1]] if len(hit_rows) else hit_rows.astype(bool)
    linked[hit_rows[first]] = hit_where[first]
    has_link = linked >= 0

    repos = _folded(pulls["repo"])
    labels = _exploded(pulls["labels"])

    def match(m: Match) -> np.ndarray:
        return _glob(repos, m.github_repos) | _any_in(n, labels, m.github_labels)

    category = _first_rule(n, [match(rule.match) for rule in config.categories], config.categories)
    unplanned, support = match(config.unplanned.match), match(config.support.match)
    item_category = items_rules["category"].to_numpy(dtype=object)
    category[has_link] = item_category[linked[has_link]]
    unplanned[has_link] = items_rules["unplanned"].to_numpy(bool)[linked[has_link]]
    support[has_link] = items_rules["support"].to_numpy(bool)[linked[has_link]]
    linked_id = np.full(n, None, dtype=object)
    linked_id[has_link] = items_rules["item_id"].to_numpy(dtype=object)[linked[has_link]]
    return pd.DataFrame(
        {
            "pr_id": pulls["pr_id"].to_numpy(),
            "linked_item_id": linked_id,
            "category": category,
            "unplanned": unplanned,
            "support": support,
        }
    )
