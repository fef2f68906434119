"""The lines a store gives back for an N-Triples text (``store.embedded.stored_lines``)."""

from __future__ import annotations

import pyoxigraph as ox

from kgraph.store.embedded import stored_lines

XSD = "http://www.w3.org/2001/XMLSchema#"
VALUES = [("0.350", "decimal"), ("1.0", "decimal"), ("2.50", "decimal"), ("7", "integer")]
TEXT = "".join(f'<http://ex.org/s{i}> <http://ex.org/p> "{value}"^^<{XSD}{kind}> .\n'
               for i, (value, kind) in enumerate(VALUES))
TEXT += ('<http://ex.org/s> <http://ex.org/q> <http://ex.org/o> .\n'
         '<http://ex.org/s> <http://ex.org/q> "a" .\n')


def test_each_line_is_keyed_as_the_store_dumps_it() -> None:
    store = ox.Store()
    graph = ox.NamedNode("http://ex.org/g")
    store.load(TEXT.encode(), format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    dumped = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph).decode()
    found = stored_lines(TEXT)
    assert set(found) == set(dumped.splitlines())
    assert sorted(found.values()) == sorted(TEXT.splitlines())
    assert found[f'<http://ex.org/s0> <http://ex.org/p> "0.35"^^<{XSD}decimal> .'].endswith(
        '"0.350"^^<http://www.w3.org/2001/XMLSchema#decimal> .')


def test_the_same_text_asked_again_is_not_read_again() -> None:
    first = stored_lines(TEXT)
    assert stored_lines(TEXT) is first  # the build's coverage stage asks twice for one graph
    copy = "".join(TEXT.splitlines(keepends=True))  # an equal text, another object
    assert copy is not TEXT
    again = stored_lines(copy)
    assert again is not first and again == first
