"""Seeded faults: parsing, repeatability, shares, storms, lost answers."""

from __future__ import annotations

import json

import pytest

from pipeline.simulator.faults import HTML_503, Fault, FaultInjector, FaultSpec, internal_error_body

DRAWS = 10_000


def test_parse_reads_every_knob() -> None:
    spec = FaultSpec.parse("5xx=0.05, lost=0.02,throttle=0.01,seed=3")
    assert spec == FaultSpec(http_5xx=0.05, lost=0.02, throttle=0.01, seed=3)
    assert FaultSpec.parse("") == FaultSpec()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("boom=0.1", "unknown fault 'boom'"),
        ("5xx=1.5", "between 0 and 1"),
        ("lost=-0.1", "between 0 and 1"),
        ("throttle=often", "between 0 and 1"),
        ("seed=x", "whole number"),
        ("5xx", "name=value"),
    ],
)
def test_parse_refuses_what_it_does_not_know(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        FaultSpec.parse(text)


def draws(spec: FaultSpec, n: int = DRAWS) -> list[Fault]:
    injector = FaultInjector(spec)
    return [injector.before(i % 3 == 0) for i in range(n)]


def test_the_same_seed_gives_the_same_faults() -> None:
    spec = FaultSpec.parse("5xx=0.1,throttle=0.1,lost=0.2,seed=3")
    assert draws(spec, 2000) == draws(spec, 2000)
    assert draws(spec, 2000) != draws(FaultSpec.parse("5xx=0.1,throttle=0.1,lost=0.2,seed=4"), 2000)


def test_no_faults_by_default() -> None:
    injector = FaultInjector(FaultSpec())
    assert {injector.before(True) for _ in range(1000)} == {Fault.NONE}
    assert not any(injector.lose_answer(True) for _ in range(1000))


def test_shares_are_close_to_the_configured_ones() -> None:
    faults = draws(FaultSpec.parse("5xx=0.05,throttle=0.03,seed=11"))
    five_xx = sum(f in (Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503) for f in faults) / DRAWS
    throttled = faults.count(Fault.THROTTLE) / DRAWS
    assert five_xx == pytest.approx(0.05, abs=0.01)
    assert throttled == pytest.approx(0.03, abs=0.012)
    assert {Fault.HTTP_500, Fault.HTTP_502, Fault.HTTP_503} <= set(faults)


def test_throttles_come_as_short_storms() -> None:
    faults = draws(FaultSpec.parse("throttle=0.05,seed=5"))
    runs, length = [], 0
    for fault in [*faults, Fault.NONE]:
        if fault is Fault.THROTTLE:
            length += 1
        elif length:
            runs.append(length)
            length = 0
    assert runs and min(runs) >= 2 and max(runs) <= 12
    assert sum(runs) / len(runs) >= 3


def test_answers_are_lost_only_for_mutations() -> None:
    injector = FaultInjector(FaultSpec.parse("lost=0.2,seed=2"))
    assert not any(injector.lose_answer(False) for _ in range(2000))
    lost = sum(injector.lose_answer(True) for _ in range(DRAWS)) / DRAWS
    assert lost == pytest.approx(0.2, abs=0.02)
    assert injector.counts()["lost"] == round(lost * DRAWS)


def test_counts_by_kind() -> None:
    injector = FaultInjector(FaultSpec.parse("5xx=0.2,throttle=0.1,seed=1"))
    faults = [injector.before(False) for _ in range(1000)]
    counts = injector.counts()
    assert counts["throttle"] == faults.count(Fault.THROTTLE)
    assert counts["http_500"] + counts["http_502"] + counts["http_503"] == sum(
        f.value.startswith("http_") for f in faults
    )


def test_the_5xx_answers_look_like_shopifys() -> None:
    injector = FaultInjector(FaultSpec(seed=1))
    reply = injector.reply(Fault.HTTP_503)
    assert reply.status == 503 and reply.headers["Content-Type"].startswith("text/html")
    assert reply.body.decode() == HTML_503 and HTML_503.startswith("<!--\n  The source of truth")
    reply = injector.reply(Fault.HTTP_500)
    body = json.loads(reply.body)
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert error["message"].startswith(
        "Internal error. Looks like something went wrong on our end.\nRequest ID: "
    )
    assert body == internal_error_body(reply.headers["X-Request-Id"])
    assert injector.reply(Fault.HTTP_502).status == 502
