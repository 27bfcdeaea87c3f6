"""Each reconcile keeps its own folder: named by its UTC time, never reused."""

from __future__ import annotations

import datetime as dt

from pipeline.reconcile.history import new_folder, publish


def test_two_reconciles_in_one_second_keep_two_folders_and_the_latest_is_published(tmp_path):
    at = dt.datetime(2026, 12, 1, 9, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    first, second = new_folder(tmp_path, at), new_folder(tmp_path, at)
    assert (first.name, second.name) == ("reconcile-20261201T073005Z", "reconcile-20261201T073005Z-2")
    (first / "report.html").write_text("old")
    (second / "report.html").write_text("new")
    publish([first / "report.html"], tmp_path)
    publish([second / "report.html"], tmp_path)
    assert (tmp_path / "report.html").read_text() == "new" and (first / "report.html").read_text() == "old"
