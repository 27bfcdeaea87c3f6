"""Keys and notes: the action key rides in a note to Shopify and comes off it once, for the files."""

from __future__ import annotations

from pipeline.plan.keys import action_key, legacy_id, note_without_key, run_tags, staff_note

KEY = action_key("20261105-093000-stockout", "gid://shopify/Order/555")


def test_the_action_key_names_the_run_and_the_order():
    assert KEY == "bc-20261105-093000-stockout-555" and legacy_id("gid://shopify/Order/555") == "555"


def test_a_note_without_its_key_is_the_note_as_written():
    assert note_without_key(staff_note("out of stock", KEY), KEY) == "out of stock"
    assert note_without_key(staff_note("", KEY), KEY) == ""
    assert note_without_key("no key here", KEY) == "no key here"


def test_every_action_ends_with_the_tool_tag_and_the_run_tag():
    assert run_tags("r1") == ("bulkcancel", "bulkcancel-r1")
