"""The Jira filter is cut at its own ORDER BY clause, never inside a quoted value."""

from __future__ import annotations

import pytest

from config.jql import JQLSyntaxError, split_order_by


@pytest.mark.parametrize(
    ("jql", "where", "order"),
    [
        ('summary ~ "law and order by night"', 'summary ~ "law and order by night"', ""),
        ("summary ~ 'law and order by night'", "summary ~ 'law and order by night'", ""),
        (
            'summary ~ "law and order by night" ORDER BY created DESC',
            'summary ~ "law and order by night"',
            "ORDER BY created DESC",
        ),
        # an escaped quote does not close the string; an escaped backslash does not escape it
        (
            r'summary ~ "say \"order by\" twice" order by key',
            r'summary ~ "say \"order by\" twice"',
            "order by key",
        ),
        (r"summary ~ 'it\'s in order by now'", r"summary ~ 'it\'s in order by now'", ""),
        (r'summary ~ "C:\\" order by key', r'summary ~ "C:\\"', "order by key"),
        # one kind of quote inside the other is plain text
        (
            """summary ~ "it's order by" ORDER BY key""",
            """summary ~ "it's order by\"""",
            "ORDER BY key",
        ),
        ("""summary ~ 'a "order by" b'""", """summary ~ 'a "order by" b'""", ""),
        # keywords in any case and spacing; no clause inside a longer word or parentheses
        ("project = ENG\n  Order\tBy updated", "project = ENG", "Order\tBy updated"),
        ("project = ENG order by created DESC", "project = ENG", "order by created DESC"),
        ("labels = border by", "labels = border by", ""),
        ("labels = orderby", "labels = orderby", ""),
        ("(project = ENG order by key)", "(project = ENG order by key)", ""),
        ("ORDER BY key", "", "ORDER BY key"),
        ("  ", "", ""),
        ("", "", ""),
    ],
)
def test_the_filter_is_cut_where_its_order_by_clause_starts(
    jql: str, where: str, order: str
) -> None:
    assert split_order_by(jql) == (where, order)


@pytest.mark.parametrize(
    ("jql", "says"),
    [
        ('summary ~ "law and order by night', 'the string opened by " at character 11'),
        ("summary ~ 'open", "the string opened by ' at character 11"),
        (r'summary ~ "ends in an escape\"', 'the string opened by " at character 11'),
        ("summary ~ foo\\", "backslash"),
    ],
)
def test_a_string_never_closed_is_an_error_not_a_guess(jql: str, says: str) -> None:
    with pytest.raises(JQLSyntaxError, match=says):
        split_order_by(jql)
