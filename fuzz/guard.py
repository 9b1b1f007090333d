"""atheris harness: the guard's lexer and checks (:mod:`kgraph.sparql.guard`) on arbitrary text.

The guard runs in the server process before any query reaches a worker, so it must end in a
:class:`ForbiddenQuery` or let the text through, and never crash or hang.
"""

import sys

import atheris
from usage import exit_if_help

exit_if_help(__doc__)

with atheris.instrument_imports():
    from kgraph.sparql.errors import ForbiddenQuery
    from kgraph.sparql.guard import check_query, check_update

GRAPHS = frozenset({"http://example.org/g"})
ALLOWED = frozenset({"http://example.org/sparql"})


def test_one(data: bytes) -> None:
    """Check the text both as a query and as an update."""
    text = atheris.FuzzedDataProvider(data).ConsumeUnicodeNoSurrogates(len(data))
    try:
        check_query(text, dataset_graphs=GRAPHS, service_allowlist=ALLOWED)
    except ForbiddenQuery as error:
        assert error.message
    try:
        check_update(text, service_allowlist=ALLOWED)
    except ForbiddenQuery as error:
        assert error.message


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
