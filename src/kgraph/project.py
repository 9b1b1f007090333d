"""Where the project's data files are: a source checkout, or the copy packaged inside an installed wheel.

The ontology, the article data, the shapes, the rules and the example queries are data files edited in the
repository; everything that reads them asks this module for their folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

_PACKAGED = Path(__file__).parent / "_project"
_CHECKOUT = Path(__file__).resolve().parents[2]


def default_project_dir() -> Path:
    """The source checkout when running from one (editable installs, tests), else the packaged copy."""
    if (_CHECKOUT / "ontology").is_dir() and (_CHECKOUT / "pyproject.toml").is_file():
        return _CHECKOUT
    return _PACKAGED


@dataclass(frozen=True)
class ProjectFiles:
    """The folders of one project tree."""

    root: Path

    @classmethod
    def locate(cls, root: Path | None = None) -> ProjectFiles:
        """The given root, or the default one."""
        return cls(Path(root) if root else default_project_dir())

    @property
    def ontology(self) -> Path:
        return self.root / "ontology"

    @property
    def data(self) -> Path:
        return self.root / "data" / "ttl"

    @property
    def shapes(self) -> Path:
        return self.root / "shapes"

    @property
    def queries(self) -> Path:
        return self.root / "queries"

    @property
    def rules(self) -> Path:
        return self.root / "rules"

    @property
    def link(self) -> Path:
        return self.root / "link"

    @property
    def candidates(self) -> Path:
        return self.root / "candidates"
