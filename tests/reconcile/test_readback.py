"""Reading the run's orders back from the simulator: calls sized to the shop's bucket."""

from __future__ import annotations

from tests.reconcile.runs import executed, reconciled


def test_a_small_bucket_gets_calls_sized_to_fit(tmp_path):
    sim, run_dir = executed(tmp_path, seed=4, rows=80)
    # A shop whose bucket holds 150 points: a 250-id read (about 450 points) could never run.
    sim.bucket = type(sim.bucket)(150, 5000)
    result = reconciled(sim, run_dir)
    assert result.all_matched and result.orders_read > 40
    # Only the calls too big for the bucket were refused (they cannot run at any pace), then split
    # (one halving more since refund lines also read their restock location).
    assert 0 < sim.stats.throttled <= 5
