"""Refuse requests that would make the server reach outside its dataset.

pyoxigraph evaluates ``SERVICE <http://...>`` itself over HTTP, so an open endpoint would let anyone
make the server call any URL (server-side request forgery) unless SERVICE is limited to an
allow-list. ``FROM`` of a graph that is not in the dataset would only select an empty graph, yet
people write ``FROM <file:///...>`` or ``FROM <http://...>`` expecting it to be read; refusing it
says plainly that nothing is ever read or fetched. ``LOAD`` in an update would fetch a URL or read a
file.

The check runs on tokens from a small SPARQL lexer rather than on raw text, so a keyword inside a
string, an IRI or a comment cannot trigger it, and a prefixed name is expanded the way the parser
will expand it. Anything the lexer does not understand is left for pyoxigraph's parser to reject.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from kgraph.sparql.errors import ForbiddenQuery
from kgraph.sparql.lexer import CLOSER, TERMS

_TOKEN = re.compile(rf"(?P<ws>[\s0-9,;.]+) | {TERMS} | (?P<other>.)", re.VERBOSE | re.DOTALL)
"""The guard's lexer: digits and ``, ; .`` skipped with the blanks (the guard needs none of them; one run is
cheaper), every other character its own ``other`` token."""
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_RFC3986 = re.compile(r"^(([^:/?#]+):)?(//([^/?#]*))?([^?#]*)(\?([^#]*))?(#(.*))?")
_NEVER_READS = "this endpoint never reads files or fetches graphs"
MAX_NESTING = 100
"""Deepest nesting of brackets a request may have: pyoxigraph parses and evaluates recursively, and a
query nested a few thousand deep overflows the worker's stack (found by tests/fuzz)."""
MAX_OPERATORS = 1000
"""Most operators and group keywords (UNION, BIND, FILTER...) a request may have: each nests the
query's algebra one level deeper, so a long flat chain overflows the stack as deep brackets do."""
_OPENING, _CLOSING, _OPERATORS = "".join(CLOSER), "".join(CLOSER.values()), "+-*/|&!=<>"
_CHAINING = frozenset({"UNION", "OPTIONAL", "MINUS", "FILTER", "BIND", "GRAPH", "SERVICE", "EXISTS"})


@dataclass(frozen=True)
class _Token:
    kind: str  # iri, pname, var, word or other; whitespace, comments and strings are dropped
    text: str  # iri: resolved against BASE; pname: expanded ('' if its prefix is undeclared)
    raw: str


@dataclass(frozen=True)
class QueryDataset:
    """The dataset a query names itself with FROM and FROM NAMED (both empty when it names none).

    The caller needs it because pyoxigraph lets a dataset given at call time (the protocol's
    ``default-graph-uri``, or the union default graph) override the query's own clauses, while
    SPARQL 1.1 says the query's clauses apply when the protocol names no dataset.
    """

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    @property
    def declared(self) -> bool:
        """Whether the query has any FROM or FROM NAMED clause."""
        return bool(self.default_graphs or self.named_graphs)


def check_query(
    sparql: str,
    *,
    dataset_graphs: Collection[str],
    service_allowlist: Collection[str],
    max_bytes: int | None = None,
) -> QueryDataset:
    """Refuse a query whose SERVICE or FROM would reach outside the dataset; raises ForbiddenQuery.

    Returns the query's own dataset clauses. Update keywords in a query are left to pyoxigraph's
    query parser, which rejects them with a position. A text over ``max_bytes`` is refused (413)
    before it is read any further.
    """
    check_length(sparql, max_bytes)
    tokens = list(significant_tokens(sparql))
    _check_size(tokens)
    default: list[str] = []
    named: list[str] = []
    for index, token in enumerate(tokens):
        if _is_word(token, "SERVICE"):
            _check_service(tokens, index, service_allowlist)
        elif _is_word(token, "FROM"):
            clause = _check_from(tokens, index, dataset_graphs)
            if clause:
                (named if clause[0] else default).append(clause[1])
    return QueryDataset(tuple(default), tuple(named))


def check_update(sparql: str, *, service_allowlist: Collection[str], max_bytes: int | None = None) -> None:
    """Refuse an update that would LOAD a document or call a SERVICE off the allow-list, or is over ``max_bytes``."""
    check_length(sparql, max_bytes)
    tokens = list(significant_tokens(sparql))
    _check_size(tokens)
    for index, token in enumerate(tokens):
        if _is_word(token, "LOAD"):
            raise ForbiddenQuery(
                "LOAD would make the server read files or fetch URLs; it is not allowed. "
                "Send the data itself in an INSERT DATA update."
            )
        if _is_word(token, "SERVICE"):
            _check_service(tokens, index, service_allowlist)


def check_length(sparql: str, max_bytes: int | None) -> None:
    """Refuse (413) a query or update text longer than ``max_bytes`` in UTF-8, before any work on it: the guard's
    lexer and pyoxigraph's parser cost time in proportion to the text."""
    if max_bytes is None or len(sparql) * 4 <= max_bytes:
        return
    size = len(sparql.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ForbiddenQuery(
            f"The query text is {size} bytes; this endpoint accepts at most {max_bytes} (KGRAPH_MAX_QUERY_BYTES). "
            "Shorten it, or split it into several queries.",
            status=413,
        )


def _check_size(tokens: list[_Token]) -> None:
    """Refuse a request nested too deep or chaining too many operators for the evaluator's stack."""
    depth = deepest = operators = 0
    for token in tokens:
        if token.kind == "other":
            depth += (token.raw in _OPENING) - (token.raw in _CLOSING)
            deepest = max(deepest, depth)
            operators += token.raw in _OPERATORS
        elif token.kind == "word":
            operators += token.raw.upper() in _CHAINING
    if deepest > MAX_NESTING:
        raise ForbiddenQuery(f"The request nests brackets {deepest} deep; this endpoint allows at most {MAX_NESTING}.")
    if operators > MAX_OPERATORS:
        raise ForbiddenQuery(
            f"The request has {operators} operators and group keywords (UNION, FILTER, BIND...); "
            f"this endpoint allows at most {MAX_OPERATORS}. Split it into smaller queries."
        )


def _check_service(tokens: list[_Token], index: int, allowlist: Collection[str]) -> None:
    target = _next(tokens, index, skip="SILENT")
    if target is None:
        return
    if target.kind == "var":
        raise ForbiddenQuery(
            f"SERVICE {target.raw} is not allowed: the endpoint to call must be written as an IRI "
            "that is on the server's allow-list (--service-allowlist)."
        )
    if target.kind not in ("iri", "pname") or not target.text or target.text in allowlist:
        return  # not an IRI, or an undeclared prefix: the parser rejects it
    if allowlist:
        listed = ", ".join(f"<{iri}>" for iri in sorted(allowlist))
        reason = f"this endpoint only calls {listed} (its --service-allowlist)"
    else:
        reason = "federated queries are off on this endpoint (its --service-allowlist is empty)"
    raise ForbiddenQuery(f"SERVICE <{target.text}> is not allowed: {reason}.")


def _check_from(tokens: list[_Token], index: int, dataset_graphs: Collection[str]) -> tuple[bool, str] | None:
    """(is FROM NAMED, graph IRI) of the clause at ``index``; raises if the graph is unknown."""
    target = _next(tokens, index, skip="NAMED")
    if target is None or target.kind not in ("iri", "pname") or not target.text:
        return None  # not an IRI, or an undeclared prefix: the parser rejects it
    named = _is_word(tokens[index + 1], "NAMED")
    if target.text in dataset_graphs:
        return named, target.text
    raise ForbiddenQuery(
        f"{'FROM NAMED' if named else 'FROM'} <{target.text}> names a graph that is not in this "
        f"dataset; {_NEVER_READS}. "
        "Name one of the graphs listed in the service description, or leave the clause out."
    )


def _next(tokens: list[_Token], index: int, *, skip: str) -> _Token | None:
    """The token after ``index``, stepping over one optional keyword (SILENT, NAMED)."""
    following = tokens[index + 1 : index + 3]
    if following and _is_word(following[0], skip):
        following = following[1:]
    return following[0] if following else None


def calls_service(sparql: str) -> bool:
    """Whether a query calls another endpoint (``SERVICE``): its answer then depends on more than this store. Asked
    of every query (the result cache's key), so it lexes only a text where the word appears at all."""
    if "service" not in sparql.lower():
        return False
    return any(_is_word(token, "SERVICE") for token in significant_tokens(sparql))


def _is_word(token: _Token, keyword: str) -> bool:
    return token.kind == "word" and token.raw.upper() == keyword


def significant_tokens(sparql: str) -> Iterator[_Token]:
    """Significant tokens, IRIs resolved against BASE and prefixed names expanded via PREFIX."""
    base: str | None = None
    prefixes: dict[str, str] = {}
    pending: list[str] = []  # BASE, or PREFIX and its label, while a declaration streams past
    for match in _TOKEN.finditer(sparql):
        kind = match.lastgroup
        assert kind is not None  # every alternative of _TOKEN is a named group
        if kind in ("ws", "comment", "string"):
            continue
        raw = match.group()
        text = raw
        if kind == "iri":
            text = _resolve(_unescape_iri(raw[1:-1]), base)
        elif kind == "pname":
            namespace = prefixes.get(match.group("prefix"))
            text = namespace + _unescape_local(match.group("local")) if namespace else ""
        token = _Token(kind, text, raw)
        base, pending = _declare(token, match, base, prefixes, pending)
        yield token


def _declare(
    token: _Token,
    match: re.Match[str],
    base: str | None,
    prefixes: dict[str, str],
    pending: list[str],
) -> tuple[str | None, list[str]]:
    """Follow BASE and PREFIX declarations as they stream past; returns base and pending state."""
    if token.kind == "word" and token.raw.upper() in ("BASE", "PREFIX"):
        return base, [token.raw.upper()]
    if pending == ["PREFIX"] and token.kind == "pname" and not match.group("local"):
        return base, ["PREFIX", match.group("prefix")]
    if pending == ["BASE"] and token.kind == "iri":
        return token.text, []
    if len(pending) == 2 and token.kind == "iri":
        prefixes[pending[1]] = token.text
    return base, []


def _resolve(iri: str, base: str | None) -> str:
    """An IRI made absolute against BASE as the parser will (RFC 3986, section 5.2).

    ``urllib.parse.urljoin`` is not used: it leaves IRIs of unknown schemes relative and keeps
    empty segments, so it would disagree with pyoxigraph on which endpoint a SERVICE names.
    """
    ref = _parts(iri)
    if base is None or ref[0] is not None:
        return iri  # pyoxigraph leaves absolute IRIs as written, dot segments included
    scheme, authority, path, query, _ = _parts(base)
    if ref[1] is not None:
        return _join(scheme, ref[1], _remove_dots(ref[2]), ref[3], ref[4])
    if not ref[2]:
        return _join(scheme, authority, path, ref[3] if ref[3] is not None else query, ref[4])
    if ref[2].startswith("/"):
        merged = ref[2]
    elif authority is not None and not path:
        merged = "/" + ref[2]
    else:
        merged = path[: path.rfind("/") + 1] + ref[2]
    return _join(scheme, authority, _remove_dots(merged), ref[3], ref[4])


def _parts(iri: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    """Scheme, authority, path, query and fragment, by RFC 3986 appendix B's regular expression."""
    match = _RFC3986.match(iri)
    assert match is not None  # the expression matches every string
    return match.group(2), match.group(4), match.group(5), match.group(7), match.group(9)


def _join(scheme: str | None, authority: str | None, path: str, query: str | None, fragment: str | None) -> str:
    text = f"{scheme}:" if scheme is not None else ""
    text += f"//{authority}" if authority is not None else ""
    text += path
    text += f"?{query}" if query is not None else ""
    return text + (f"#{fragment}" if fragment is not None else "")


def _remove_dots(path: str) -> str:
    """RFC 3986 section 5.2.4: resolve ``.`` and ``..`` segments."""
    output: list[str] = []
    while path:
        if path.startswith(("../", "./")):
            path = path[path.index("/") + 1 :]
        elif path.startswith("/./") or path == "/.":
            path = "/" + path[3:]
        elif path.startswith("/../") or path == "/..":
            path = "/" + path[4:]
            if output:
                output.pop()
        elif path in (".", ".."):
            path = ""
        else:
            end = path.find("/", 1)
            end = len(path) if end < 0 else end
            output.append(path[:end])
            path = path[end:]
    return "".join(output)


def _unescape_iri(iri: str) -> str:
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


def _unescape_local(local: str) -> str:
    return re.sub(r"\\(.)", r"\1", local) if "\\" in local else local
