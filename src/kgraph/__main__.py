"""Lets ``python -m kgraph`` behave exactly like the ``kgraph`` command."""

from kgraph.cli import main

main()
