"""``kgraph viz``: one document's lineage as a self-contained HTML file (pyvis, no CDN).

pyvis's own template loads vis-network and Bootstrap from CDNs (even in "local" mode) and
puts node titles into the page as HTML. Here pyvis only collects nodes, edges and options;
its template is replaced by ``kgraph/templates/viz_export.html``, rendered with autoescaping,
which inlines the vendored vis-network and turns every tooltip into a text node. The file
opens offline and a title holding ``<script>`` shows as text.
"""


import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pyvis.network import Network

from kgraph.analysis.lineage import (
    KIND_LABELS,
    RELATION_LABELS,
    Direction,
    LineageGraph,
    Node,
    StoreWalk,
    find_document,
)
from kgraph.errors import KgraphError
from kgraph.store.embedded import Repository

TEMPLATES_DIR = Path(__file__).resolve().parents[1] / "web" / "templates"
STATIC_DIR = Path(__file__).resolve().parents[1] / "web" / "static"
VENDOR_DIR = STATIC_DIR / "vendor" / "vis-network"

KIND_STYLE: dict[str, tuple[str, str]] = {  # kind -> (shape, colour), as explore.js
    "document": ("box", "#2f6db5"),
    "task": ("ellipse", "#cfe3c8"),
    "assignment": ("box", "#f5d98b"),
    "duty": ("ellipse", "#fbeec5"),
    "agency": ("diamond", "#2e9c6a"),
    "collective": ("hexagon", "#7fc7a4"),
    "mention": ("triangle", "#d9d9d9"),
    "province": ("star", "#8e5bb5"),
}
DOCTYPE_COLOR = {"Chỉ thị": "#b3261e", "Nghị quyết": "#7b1fa2", "Kế hoạch": "#2f6db5",
                 "Quyết định": "#00796b"}
EDGE_STYLE: dict[str, tuple[str, float, bool]] = {  # relation -> (colour, width, dashed)
    "implements": ("#1f3a5f", 2.5, False),
    "based_on": ("#1f3a5f", 1.5, True),
    "cites": ("#9aa7b5", 1.0, True),
    "addressee": ("#2e9c6a", 2.0, False),
    "request": ("#8e5bb5", 2.0, True),
    "lead": ("#d32f2f", 3.0, False),
    "coordinate": ("#ef8f00", 1.5, True),
}
DEFAULT_EDGE = ("#b0b8c4", 1.0, False)
_CLOSING_TAG = re.compile(r"</(script|style)", re.IGNORECASE)


class VizError(KgraphError):
    """The document to draw is not in the store."""


def export_options() -> dict[str, Any]:
    """vis-network options: positions from layout.js (levels wrapped into rows), physics off."""
    return {
        "layout": {"improvedLayout": False, "hierarchical": {"enabled": False}},
        "physics": {"enabled": False},
        "interaction": {"hover": True, "tooltipDelay": 150, "hideEdgesOnDrag": True},
        "edges": {"smooth": False, "arrows": {"to": {"enabled": True, "scaleFactor": 0.6}}},
        "nodes": {"font": {"size": 14}, "margin": 8, "widthConstraint": {"maximum": 220}},
    }


def build_network(lineage: LineageGraph | StoreWalk, root: str, direction: Direction = "down",
                  depth: int = 8) -> Network:
    """A pyvis network of the lineage around ``root``; labels and titles are plain text."""
    iris = lineage.walk(root, direction, depth)
    nodes, edges = lineage.subgraph(iris)
    levels = lineage.levels(iris, edges)
    net = Network(directed=True, height="100%", width="100%", cdn_resources="remote")
    for node in nodes:
        shape, colour = KIND_STYLE.get(node.kind, KIND_STYLE["document"])
        if node.kind == "document":
            colour = DOCTYPE_COLOR.get(node.doctype, colour)
        net.add_node(node.iri, label=node.label, title=node.tooltip(), shape=shape,
                     color={"background": colour,
                            "border": "#e00000" if node.flags else "#334155"},
                     borderWidth=4 if node.flags else 1, level=levels.get(node.iri, 0),
                     font={"color": "#ffffff" if node.kind == "document" else "#1d2733",
                           "size": 16 if node.kind == "document" else 14})
    for parent, child, rel in edges:
        colour, width, dashed = EDGE_STYLE.get(rel, DEFAULT_EDGE)
        net.add_edge(parent, child, title=RELATION_LABELS.get(rel, rel), color=colour,
                     width=width, dashes=dashed)
    net.options = export_options()
    return net


def _inline(text: str) -> Markup:
    """Vendored asset text made safe to sit inside a <script> or <style> element.

    Only a closing tag can end the element early; "</" elsewhere (a comparison before a regex
    literal) must stay as it is.
    """
    return Markup(_CLOSING_TAG.sub(lambda m: "<\\/" + m.group(1), text))


def render_html(net: Network, heading: str) -> str:
    """The page from our template (autoescaped), every asset inlined."""
    environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR),
                              autoescape=select_autoescape(default=True, default_for_string=True))
    environment.globals.update(
        vis_js=_inline((VENDOR_DIR / "vis-network.min.js").read_text(encoding="utf-8")),
        vis_css=_inline((VENDOR_DIR / "vis-network.min.css").read_text(encoding="utf-8")),
        layout_js=_inline((STATIC_DIR / "layout.js").read_text(encoding="utf-8")),
        legend=[(KIND_LABELS[kind], colour) for kind, (_, colour) in KIND_STYLE.items()],
        relations=[(RELATION_LABELS[r], c, d) for r, (c, _, d) in EDGE_STYLE.items()],
    )
    net.templateEnv = environment
    net.path = "viz_export.html"
    net.heading = heading
    return net.generate_html(name="viz.html")


def export_lineage(repo: Repository, document: str, *, direction: Direction = "down",
                   depth: int = 8) -> tuple[str, int]:
    """HTML of a document's lineage (by number or IRI) and the number of nodes drawn.

    The lineage is walked in the store from the document (:class:`StoreWalk`): the cost is
    the lineage drawn, not the corpus."""
    walk = StoreWalk(repo)
    root = document if walk.node(document) is not None else find_document(repo, document)
    if root is None:
        raise VizError(f"no document {document!r} in the store")
    net = build_network(walk, root, direction, depth)
    node: Node = walk.nodes[root]
    heading = f"{node.number or node.label} — {node.text}" if node.text else node.label
    return render_html(net, heading), len(net.nodes)
