"""``--help`` for the atheris harnesses: libFuzzer takes ``-help=1`` and would fuzz forever on ``--help``."""

import sys

OPTIONS = """
Arguments are libFuzzer's: corpus folders, then options such as -runs=N, -max_total_time=SECONDS, -seed=N,
-artifact_prefix=FOLDER/ (-help=1 lists them all). See fuzz/README.md.
"""


def exit_if_help(doc: str | None) -> None:
    """Print the harness's docstring and how to run it, and exit 0, when -h or --help is among the arguments."""
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(f"usage: {sys.argv[0]} [CORPUS ...] [-LIBFUZZER_OPTION=VALUE ...]\n\n{(doc or '').strip()}\n{OPTIONS}")
        sys.exit(0)
