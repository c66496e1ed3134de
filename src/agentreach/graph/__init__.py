"""The reach graph: a snapshot's identities, credentials, workloads and systems, the edges
the sources state and the ones policy evaluation derives, and the queries over them."""

from .build import load_graph
from .core import Graph, Hop
from .query import paths_between, reach, who_can_reach

__all__ = ["Graph", "Hop", "load_graph", "paths_between", "reach", "who_can_reach"]
