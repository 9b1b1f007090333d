"""The served knowledge graph: project files loaded into a store, then inferred, ready for queries.

This is the one place where the steps of the data flow are put together, in their order:
files -> store (asserted, one named graph per file) -> inference (the inferred graph, kept apart) -> serving.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from kgraph.config import INFERRED_GRAPH, Settings
from kgraph.infer import InferenceReport, run_inference
from kgraph.journal import replay_journal
from kgraph.load import load_paths
from kgraph.project import ProjectFiles
from kgraph.store import Store, open_store


@dataclass
class KnowledgeGraph:
    """A store with its asserted graphs and the inferred graph kept apart."""

    store: Store
    files: ProjectFiles
    inference: InferenceReport

    def asserted_graphs(self) -> list[str]:
        """Every named graph except the inferred one."""
        return [g for g in self.store.graph_names() if g != INFERRED_GRAPH]

    def default_graph(self, infer: bool) -> list[str]:
        """The graphs whose union a query sees by default: asserted, plus inferred when ``infer`` is on."""
        graphs = self.asserted_graphs()
        return [*graphs, INFERRED_GRAPH] if infer else graphs


def build(settings: Settings, progress: Callable[[str], None] | None = None) -> KnowledgeGraph:
    """Load the ontology, the article data and any ``--data`` into a store, then run inference."""
    files = ProjectFiles.locate(settings.project_dir)
    store = open_store(settings.store, timeout=settings.timeout)
    load_paths(store, [files.ontology, files.data, *settings.data], root=files.root, progress=progress)
    replay_journal(store, settings.data_dir)  # writes acknowledged over HTTP, in order
    inference = run_inference(store, rules_dir=files.rules)
    return KnowledgeGraph(store=store, files=files, inference=inference)
