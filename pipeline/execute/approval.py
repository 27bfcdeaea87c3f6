"""Whether an approved plan may run now (SPEC §7 items 1–2), and the reviewer's sign-off (SPEC §3).

`check` and `summary` are pure. A sign-off is `approval.json` in the run directory: who approved,
when, and the sha256 of the plan.json they approved, so it vouches for that exact plan and no other
(`execute --require-approval` refuses a plan changed since, or another run's approval copied in).
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from pipeline.errors import ConfigError, RefusedError
from pipeline.execute.seal import refuse_repeated_keys
from pipeline.money import per_currency
from pipeline.plan.files import SEAL_DIGITS, load_plan, recorded_digest
from pipeline.plan.model import Decision, Plan
from pipeline.plan.words import TO_PROCESS, by_method, counted, seal_words

APPROVAL_JSON = "approval.json"
#: Longest reviewer's name kept: a name, an email address, a team.
NAME_MAX = 200


def check(
    plan: Plan,
    *,
    shop: str,
    now: dt.datetime,
    max_age: dt.timedelta,
    max_total: Decimal | Mapping[str, Decimal] | None = None,
    started: bool = False,
) -> None:
    """Refuses (RefusedError, exit 3) a plan for another shop, one order twice, a plan too old to
    start (`started`: steps are journaled, so it resumes at any age), or above `max_total` (one
    amount for every currency, or a limit per currency)."""
    if plan.shop != shop:
        # Once steps are journaled, the only safe way on is this run, on its own shop.
        advice = f"resume it on {plan.shop}" if started else "plan again for this shop"
        raise RefusedError(f"the plan was made for {plan.shop}, not {shop}: {advice}")
    refuse_repeated_keys(
        (f"row {row.row}", row.action.action_key)
        for row in plan.rows
        if row.decision is Decision.EXECUTE and row.action
    )
    age = now - plan.since
    if age > max_age and not started:
        hours = age.total_seconds() / 3600
        raise RefusedError(
            f"the plan is {hours:.1f} hours old (more than --max-age {max_age.total_seconds() / 3600:g} h): "
            "the shop may have changed, plan again"
        )
    if isinstance(max_total, Mapping):
        _refuse_over_limits(per_currency(plan.totals_by_currency_and_method()), max_total)
    elif max_total is not None:
        per = per_currency(plan.totals_by_currency_and_method())
        over = {c: a for c, a in per.items() if a > max_total}
        if over:
            worst = ", ".join(f"{a} {c}" for c, a in sorted(over.items()))
            raise RefusedError(
                f"the plan refunds {worst}, above --max-total {max_total}: nothing was executed"
            )


def _refuse_over_limits(per: Mapping[str, Decimal], limits: Mapping[str, Decimal]) -> None:
    """Each currency against its own limit; a currency the plan refunds in without a limit is refused
    too (a limit was asked for, and amounts in two currencies cannot be compared)."""
    missing = [c for c in per if c not in limits]
    if missing:
        written = ", ".join(f"{per[c]} {c}" for c in missing)
        add = " ".join(f"--max-total AMOUNT {c}" for c in missing)
        raise RefusedError(
            f"the plan refunds {written}, and --max-total gives no limit in {', '.join(missing)}: "
            f"add {add}; nothing was executed"
        )
    over = [c for c, amount in per.items() if amount > limits[c]]
    if over:
        worst = ", ".join(f"{per[c]} {c} (limit {limits[c]} {c})" for c in over)
        raise RefusedError(f"the plan refunds {worst}, above --max-total: nothing was executed")


@dataclass(frozen=True)
class Approval:
    """One reviewer's sign-off of one plan: the plan.json sha256 it vouches for, who, when (UTC ISO)."""

    run_id: str
    plan_sha256: str
    by: str
    at: str

    @property
    def seal(self) -> str:
        return self.plan_sha256[:SEAL_DIGITS]

    def line(self) -> str:
        """`approved by Jane Doe at 2026-11-30T10:02:11Z (seal 3f9a0c1b2d4e)`."""
        return f"approved by {self.by} at {self.at} ({seal_words(self.seal)})"

    def to_json(self) -> dict[str, str]:
        return {"run_id": self.run_id, "plan_sha256": self.plan_sha256, "seal": self.seal,
                "by": self.by, "at": self.at}  # fmt: skip


def approve(run_dir: Path, by: str, now: dt.datetime) -> tuple[Approval, Approval | None]:
    """Record `by`'s approval of the plan in `run_dir` as it is now; returns it and the one it replaced.

    Refuses (RefusedError) a plan that does not verify against plan.sha256; ConfigError for a blank name.
    """
    name = _name(by)
    plan = load_plan(run_dir)  # refuses a plan.json changed since it was planned
    digest = recorded_digest(run_dir)  # plan.json's own, as load_plan has just checked
    at = now.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    approval = Approval(plan.run_id, digest, name, at)
    path = Path(run_dir) / APPROVAL_JSON
    earlier = read_approval(run_dir) if path.exists() else None
    path.write_text(json.dumps(approval.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return approval, earlier


def read_approval(run_dir: Path) -> Approval:
    """The approval.json of `run_dir`; RefusedError when it is missing or is not an approval."""
    path = Path(run_dir) / APPROVAL_JSON
    if not path.is_file():
        raise RefusedError(
            f"no approval for this plan: a reviewer runs `bulkcancel approve {run_dir} --by NAME` "
            "after reading plan.xlsx"
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        approval = Approval(
            str(record["run_id"]), str(record["plan_sha256"]), str(record["by"]), str(record["at"])
        )
    except (ValueError, KeyError, TypeError) as error:  # UnicodeDecodeError and JSONDecodeError too
        raise RefusedError(f"{path} is not an approval ({error!r}): approve the plan again") from None
    return approval


def require_approval(run_dir: Path) -> Approval:
    """The approval of exactly this plan, or RefusedError (exit 3) saying why there is none."""
    approval = read_approval(run_dir)
    load_plan(run_dir)  # plan.json must still be what plan.sha256 says
    digest = recorded_digest(run_dir)  # plan.json's own, as load_plan has just checked
    if approval.plan_sha256 != digest:
        raise RefusedError(
            f"{APPROVAL_JSON} approves another plan ({seal_words(approval.seal)}, by {approval.by}), "
            f"not this one ({seal_words(digest[:SEAL_DIGITS])}): review this plan and approve it"
        )
    return approval


def _name(by: str) -> str:
    """The reviewer's name as given, trimmed, without control characters; InputError when empty."""
    name = "".join(c for c in by if unicodedata.category(c) != "Cc").strip()
    if not name:
        raise ConfigError("--by needs the reviewer's name")
    return name[:NAME_MAX]


def summary(plan: Plan) -> list[str]:
    """What the person confirming reads before typing the number of orders."""
    counts = plan.counts_by_decision()
    lines = [
        f"plan {plan.run_id} for {plan.shop} (made {plan.created_at} from {plan.input_name})",
        f"  {counted(counts, execute=TO_PROCESS)}",
    ]
    cancels = sum(1 for action in plan.actions() if action.cancels)
    lines.append(
        f"  {cancels} cancellations, {counts[Decision.EXECUTE] - cancels} refunds without cancelling"
    )
    for (currency, method), amount in plan.totals_by_currency_and_method().items():
        lines.append(f"  to refund: {amount} {currency} by {by_method(method)}")
    return lines
