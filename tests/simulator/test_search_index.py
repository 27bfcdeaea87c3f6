"""The indexed answer to OR-joined `name:` queries is exactly the general search's answer."""

from __future__ import annotations

import pytest

from pipeline.simulator import search
from pipeline.simulator.seed import seed_store

STORE = seed_store(orders=400, seed=7)
ORDERS = list(STORE.orders.values())


@pytest.mark.parametrize(
    "query",
    [
        'name:"#1001"',
        'name:"1001" OR name:"#1001"',
        "name:101 OR name:#1203 OR name:EU-1203",
        'name:"#ap-512187" OR name:"Her2065" OR name:"#1003"',
        'name:"#99999"',
        "name:1",
    ],
)
def test_index_and_general_search_agree(query):
    tree = search.parse(query)
    general = [o for o in ORDERS if search.evaluate(tree, lambda term, o=o: search.order_matches(o, term))]
    prefixes = search.name_prefixes(tree)
    assert prefixes is not None
    assert [o.id for o in search.name_index(STORE.orders).find(prefixes)] == [o.id for o in general]


@pytest.mark.parametrize("query", ["name:1001 status:open", "name:1001 OR test:true", "-name:1001", None])
def test_other_queries_take_the_general_path(query):
    assert search.name_prefixes(search.parse(query)) is None
