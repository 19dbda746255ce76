"""The subset of JQL the fake Jira understands: parse it, read its dates, evaluate it over index sets.

Collectors ask for little: projects, issue types, keys, `updated`/`created` windows joined
with AND (OR and parentheses come free), and an ORDER BY. Anything else is refused with
the 400 a real Jira gives to a query it cannot run, so a collector that needs more fails
loudly here rather than silently in production. Dates are read in the caller's profile
timezone, as Jira does: `updated >= "2025/03/04 10:00"` means 10:00 where the bot lives.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

# JQL field name (lower case) -> the canonical field the sandbox evaluates
FIELDS = {
    "project": "project",
    "issuetype": "issuetype",
    "type": "issuetype",
    "updated": "updated",
    "updateddate": "updated",
    "created": "created",
    "createddate": "created",
    "key": "key",
    "issuekey": "key",
    "issue": "key",
    "id": "key",
}
DATE_FIELDS = frozenset({"updated", "created"})
ORDER_FIELDS = frozenset({"updated", "created", "key"})
MAX_ORDER_FIELDS = 7  # "orderBy clause can contain a maximum of 7 fields" (search/jql docs)

DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_PERIOD = re.compile(r"^([+-]?)\s*((?:\d+\s*[wdhm]\s*)+)$")
_PERIOD_PART = re.compile(r"(\d+)\s*([wdhm])")
_PERIOD_UNITS = {
    "w": dt.timedelta(weeks=1),
    "d": dt.timedelta(days=1),
    "h": dt.timedelta(hours=1),
    "m": dt.timedelta(minutes=1),
}

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<amp>&&|\|\|)
      | (?P<word>[^\s(),=!<>~"'&|]+)
    )""",
    re.VERBOSE,
)
_KEYWORDS = frozenset(
    {
        "and",
        "or",
        "not",
        "in",
        "is",
        "order",
        "by",
        "asc",
        "desc",
        "empty",
        "null",
        "was",
        "changed",
    }
)


class JQLError(ValueError):
    """A query the sandbox cannot run; the message is what Jira would put in `errorMessages`."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # string | word | op | punct | keyword | end
    text: str
    pos: int


@dataclass(frozen=True, slots=True)
class Clause:
    field: str  # canonical: project | issuetype | updated | created | key
    op: str  # = != > >= < <= in "not in"
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BoolOp:
    op: str  # and | or
    children: tuple[Node, ...]


Node = Clause | BoolOp


@dataclass(frozen=True, slots=True)
class Query:
    where: Node | None
    order: tuple[tuple[str, bool], ...]  # (canonical field, ascending)

    @property
    def bounded(self) -> bool:
        return self.where is not None


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    text = jql.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            char = text[pos:].lstrip()[:1]
            raise JQLError(
                f"Error in the JQL Query: The character '{char}' is a reserved JQL character. (line 1, character {pos + 1})"
            )
        kind = match.lastgroup or "word"
        raw = match.group(kind)
        start = match.start(kind)
        if kind == "string":
            tokens.append(Token("string", _unquote(raw), start))
        elif kind == "amp":
            tokens.append(Token("keyword", "and" if raw == "&&" else "or", start))
        elif kind == "word" and raw.lower() in _KEYWORDS:
            tokens.append(Token("keyword", raw.lower(), start))
        else:
            tokens.append(Token(kind, raw, start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _unquote(raw: str) -> str:
    return re.sub(r"\\(.)", r"\1", raw[1:-1])


class _Parser:
    def __init__(self, jql: str) -> None:
        self.tokens = tokenize(jql)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def error(self, expecting: str) -> JQLError:
        got = self.tok.text or "<EOF>"
        return JQLError(
            f"Error in the JQL Query: Expecting {expecting} but got '{got}'. (line 1, character {self.tok.pos + 1})"
        )

    def keyword(self, word: str) -> bool:
        if self.tok.kind == "keyword" and self.tok.text == word:
            self.i += 1
            return True
        return False

    def query(self) -> Query:
        where = None
        if not (self.tok.kind == "keyword" and self.tok.text == "order") and self.tok.kind != "end":
            where = self.or_expr()
        order: list[tuple[str, bool]] = []
        if self.keyword("order"):
            if not self.keyword("by"):
                raise self.error("'by'")
            order.append(self.order_item())
            while self.tok.kind == "punct" and self.tok.text == ",":
                self.take()
                order.append(self.order_item())
            if len(order) > MAX_ORDER_FIELDS:
                raise JQLError(
                    f"Error in the JQL Query: The ORDER BY clause can contain a maximum of {MAX_ORDER_FIELDS} fields."
                )
        if self.tok.kind != "end":
            raise self.error("either 'OR' or 'AND'" if where is not None else "a field name")
        return Query(where, tuple(order))

    def order_item(self) -> tuple[str, bool]:
        token = self.take()
        if token.kind not in ("word", "string"):
            raise JQLError(
                f"Error in the JQL Query: Expecting a field name but got '{token.text or '<EOF>'}'. (line 1, character {token.pos + 1})"
            )
        field = FIELDS.get(token.text.lower())
        if field not in ORDER_FIELDS:
            raise JQLError(
                f"Field '{token.text}' does not exist or you do not have permission to view it, or the sandbox cannot sort by it."
            )
        ascending = True
        if self.keyword("desc"):
            ascending = False
        else:
            self.keyword("asc")
        return field, ascending

    def or_expr(self) -> Node:
        children = [self.and_expr()]
        while self.keyword("or"):
            children.append(self.and_expr())
        return children[0] if len(children) == 1 else BoolOp("or", tuple(children))

    def and_expr(self) -> Node:
        children = [self.term()]
        while self.keyword("and"):
            children.append(self.term())
        return children[0] if len(children) == 1 else BoolOp("and", tuple(children))

    def term(self) -> Node:
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.take()
            node = self.or_expr()
            if not (self.tok.kind == "punct" and self.tok.text == ")"):
                raise self.error("')'")
            self.take()
            return node
        if self.tok.kind == "keyword" and self.tok.text == "not":
            raise JQLError(
                "Error in the JQL Query: the sandbox does not support NOT; ask for what you want instead."
            )
        return self.clause()

    def clause(self) -> Clause:
        token = self.take()
        if token.kind not in ("word", "string"):
            raise JQLError(
                f"Error in the JQL Query: Expecting a field name but got '{token.text or '<EOF>'}'. (line 1, character {token.pos + 1})"
            )
        field = FIELDS.get(token.text.lower())
        if field is None:
            raise JQLError(
                f"Field '{token.text}' is not supported by the sandbox JQL subset (project, issuetype, key, updated, created)."
            )
        if self.tok.kind == "op":
            op = self.take().text
            if op in ("~", "!~"):
                raise JQLError(f"The operator '{op}' is not supported by the '{token.text}' field.")
            if field in DATE_FIELDS and op in ("=", "!="):
                raise JQLError(
                    f"Error in the JQL Query: the sandbox compares '{token.text}' with >, >=, < and <= only."
                )
            if field not in DATE_FIELDS and op not in ("=", "!="):
                raise JQLError(f"The operator '{op}' is not supported by the '{token.text}' field.")
            return Clause(field, op, (self.value(),))
        negate = self.keyword("not")
        if self.keyword("in"):
            if field in DATE_FIELDS:
                raise JQLError(
                    f"The operator '{'not in' if negate else 'in'}' is not supported by the '{token.text}' field."
                )
            return Clause(field, "not in" if negate else "in", self.value_list())
        raise self.error("operator")

    def value(self) -> str:
        token = self.take()
        if token.kind in ("string", "word"):
            return token.text
        if token.kind == "keyword" and token.text not in ("and", "or", "order"):
            return token.text
        raise JQLError(
            f"Error in the JQL Query: Expecting either a value, list or function but got '{token.text or '<EOF>'}'. (line 1, character {token.pos + 1})"
        )

    def value_list(self) -> tuple[str, ...]:
        if not (self.tok.kind == "punct" and self.tok.text == "("):
            raise self.error("'('")
        self.take()
        values = [self.value()]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.take()
            values.append(self.value())
        if not (self.tok.kind == "punct" and self.tok.text == ")"):
            raise self.error("')'")
        self.take()
        return tuple(values)


def parse(jql: str) -> Query:
    """Parse the supported subset or raise `JQLError` with Jira's kind of message."""
    return _Parser(jql or "").query()


def parse_date(value: str, field: str, tz: ZoneInfo, now: dt.datetime) -> dt.datetime:
    """A JQL date literal as an aware UTC datetime; wall-clock values are in `tz` (the caller's profile)."""
    text = value.strip()
    for fmt in DATE_FORMATS:
        try:
            local = dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=tz).astimezone(dt.UTC)
    period = _PERIOD.match(text)
    if period:
        delta = sum(
            (int(n) * _PERIOD_UNITS[unit] for n, unit in _PERIOD_PART.findall(period.group(2))),
            dt.timedelta(),
        )
        return now - delta if period.group(1) == "-" else now + delta
    raise JQLError(
        f"Date value '{value}' for field '{field}' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', "
        "'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
    )


def evaluate(node: Node, clause: Callable[[Clause], set[int]]) -> set[int]:
    """The set of issue indexes a WHERE tree selects, given how to answer one clause."""
    if isinstance(node, Clause):
        return clause(node)
    sets: Sequence[set[int]] = [evaluate(child, clause) for child in node.children]
    if node.op == "and":
        result = set(min(sets, key=len))
        for other in sets:
            result &= other
        return result
    return set().union(*sets)
