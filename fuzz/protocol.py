"""atheris harness: :func:`kgraph.sparql.protocol.parse_request` on arbitrary requests.

Any outcome but a :class:`ProtocolRequest` or a :class:`ProtocolError` (a 4xx) is a crash: the web
layer would answer it with a 500.
"""

import sys

import atheris
from usage import exit_if_help

exit_if_help(__doc__)

with atheris.instrument_imports():
    from kgraph.sparql.protocol import ProtocolError, parse_request

METHODS = ["GET", "POST", "HEAD", "PUT"]
TYPES = [None, "application/sparql-query", "application/sparql-update", "application/x-www-form-urlencoded", "x/y"]


def test_one(data: bytes) -> None:
    """Split the input into method, content type, query string and body, and parse the request."""
    fdp = atheris.FuzzedDataProvider(data)
    method = METHODS[fdp.ConsumeIntInRange(0, len(METHODS) - 1)]
    content_type = TYPES[fdp.ConsumeIntInRange(0, len(TYPES) - 1)]
    query_string = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200))
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    try:
        parse_request(method, query_string, content_type, body)
    except ProtocolError as error:
        assert 400 <= error.status < 500 and error.message


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
