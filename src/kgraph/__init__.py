"""kgraph: an open knowledge graph of the 2024-2025 battle for Russia's Kursk region.

Data flows one way through the package, and the modules are named for the steps:
files -> ``load`` -> ``store`` (asserted) -> ``infer`` (inferred, kept apart) -> ``validate`` -> ``web`` (serving).
"""

__version__ = "0.1.0"
