"""kgraph: Vietnamese directives, plans and responsibilities as a lineage graph."""

__version__ = "0.1.0"
