"""atheris harness: :func:`kgraph.load.load_paths` on arbitrary file contents in every RDF syntax.

A file either loads or raises :class:`RdfSyntaxError`; anything else would crash ``kgraph validate``
or the server's start.
"""

import sys
import tempfile
from pathlib import Path

import atheris
from usage import exit_if_help

exit_if_help(__doc__)

with atheris.instrument_imports():
    from kgraph.load import FORMATS, RdfSyntaxError, load_paths
    from kgraph.store import EmbeddedStore

SUFFIXES = sorted(FORMATS)
FOLDER = Path(tempfile.mkdtemp(prefix="kgraph-fuzz-load-"))


def test_one(data: bytes) -> None:
    """Write the input as a file of a chosen syntax and load it."""
    fdp = atheris.FuzzedDataProvider(data)
    path = FOLDER / f"input{SUFFIXES[fdp.ConsumeIntInRange(0, len(SUFFIXES) - 1)]}"
    path.write_bytes(fdp.ConsumeBytes(fdp.remaining_bytes()))
    try:
        load_paths(EmbeddedStore(), [path], root=FOLDER)
    except RdfSyntaxError as error:
        assert error.message
    finally:
        path.unlink()


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()
