"""atheris harness: Accept parsing and content negotiation (:mod:`kgraph.sparql.formats`).

A broken Accept header or ``format`` parameter must give a format or a :class:`NotAcceptable` (406).
"""

import sys

import atheris
from usage import exit_if_help

exit_if_help(__doc__)

with atheris.instrument_imports():
    from kgraph.sparql.errors import NotAcceptable
    from kgraph.sparql.formats import KINDS, negotiate, parse_accept


def test_one(data: bytes) -> None:
    """Parse the header, then negotiate every result kind with and without a format parameter."""
    fdp = atheris.FuzzedDataProvider(data)
    accept = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 300))
    fmt = fdp.ConsumeUnicodeNoSurrogates(fdp.ConsumeIntInRange(0, 30)) or None
    for media_range, q in parse_accept(accept):
        assert media_range.count("/") == 1 and 0.0 <= q <= 1.0
    for kind in KINDS:
        try:
            negotiate(kind, accept, fmt)
        except NotAcceptable as error:
            assert error.status == 406 and error.message


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
