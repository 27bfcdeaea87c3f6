"""Reading bulk result files: parents with their `__parentId` children, cut downloads refused."""

from __future__ import annotations

import pytest

from pipeline.errors import ShopifyError
from pipeline.shopify.jsonl import TruncatedFileError, lines, records

FILE = (
    b'{"id":"gid://shopify/Order/1","name":"#1001"}\n'
    b'{"id":"gid://shopify/LineItem/11","sku":"A","__parentId":"gid://shopify/Order/1"}\n'
    b'{"id":"gid://shopify/LineItem/12","sku":"B","__parentId":"gid://shopify/Order/1"}\n'
    b'{"id":"gid://shopify/Order/2","name":"#1002"}\n'
    b'{"id":"gid://shopify/Order/3","name":"#1003"}\n'
    b'{"id":"gid://shopify/LineItem/31","sku":"A","__parentId":"gid://shopify/Order/3"}\n'
)


def chunks(data: bytes, size: int) -> list[bytes]:
    return [data[k : k + size] for k in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 7, 64, 10_000])
def test_parents_come_with_their_children_whatever_the_chunks(size: int) -> None:
    got = list(records(lines(chunks(FILE, size))))
    assert [r.object["name"] for r in got] == ["#1001", "#1002", "#1003"]
    assert [[c["sku"] for c in r.children.get("LineItem", [])] for r in got] == [["A", "B"], [], ["A"]]
    assert all("__parentId" not in c for r in got for c in r.children.get("LineItem", []))


def test_a_cut_download_is_an_error_not_a_shorter_file() -> None:
    cut = FILE + b'{"id":"gid://shopify/Order/4","na'
    with pytest.raises(TruncatedFileError):
        list(lines(chunks(cut, 16)))


def test_a_partial_file_drops_the_line_the_failure_cut() -> None:
    cut = FILE + b'{"id":"gid://shopify/Order/4","na'
    assert len(list(lines([cut], partial=True))) == 6


def test_a_last_line_without_newline_is_kept_when_whole() -> None:
    assert len(list(lines([FILE.rstrip(b"\n")]))) == 6


def test_a_child_away_from_its_parent_is_refused() -> None:
    ungrouped = FILE + b'{"id":"gid://shopify/LineItem/13","__parentId":"gid://shopify/Order/1"}\n'
    with pytest.raises(ShopifyError, match="not grouped"):
        list(records(lines([ungrouped])))


def test_money_is_read_as_decimal() -> None:
    (line,) = lines([b'{"amount": 12.10}\n'])
    assert str(line["amount"]) == "12.10"
