"""Inference over the asserted graphs (OWL 2 RL + the project's rules), and why a triple holds.

The inferred triples are kept in their own named graph; :func:`explain` says why any triple is in
the graph, down to the asserted triples, their source files and the documents they derive from.
"""

from kgraph.infer.consistency import Inconsistency
from kgraph.infer.engine import InferenceReport, run_inference
from kgraph.infer.explain import Explanation, TripleNotFound, explain

__all__ = [
    "Explanation",
    "Inconsistency",
    "InferenceReport",
    "TripleNotFound",
    "explain",
    "run_inference",
]
