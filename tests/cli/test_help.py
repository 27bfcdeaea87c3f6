"""Every command answers `--help`, and each shared option set is on every command that should have it."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from pipeline.cli import cli

INPUT = {"inputs", "sheet", "default_mode", "restock", "notify", "reason", "as_json", "only_sku"}
CONNECTION = {"shop", "token_file", "api_version", "timeout"}
PLAN = INPUT | CONNECTION | {"include_test", "allow_repeat", "out"}
EXECUTION = {"yes", "concurrency", "max_total", "max_age", "job_wait"}
OUTPUT = {"as_json"}

EXPECTED = {
    "validate": INPUT | OUTPUT,
    "plan": PLAN | OUTPUT,
    "run": PLAN | EXECUTION | OUTPUT,
    "execute": CONNECTION | EXECUTION | OUTPUT,
    "reconcile": CONNECTION | OUTPUT,
    "release": CONNECTION | {"yes", "out"},
}


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # list_commands/get_command, not .commands: the simulator's group is mounted only when asked for.
    ctx = click.Context(group)
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
    return found


def _params(name: str) -> dict[str, click.Parameter]:
    return {param.name: param for param in cli.commands[name].params if param.name}


def _info(name: str, option: str) -> dict[str, object]:
    info = _params(name)[option].to_info_dict()
    if option == "as_json":
        # One declaration with one word changed: the summary (plans) or the outcome (execute, reconcile).
        info["help"] = str(info["help"]).replace("outcome", "summary")
    return info


def test_the_commands_are_the_ones_we_ship():
    names = {" ".join(path) for path in _commands(cli)}
    assert names == {
        *EXPECTED,
        "approve",
        "template",
        "doctor",
        "demo",
        "select",
        "simulator",
        "simulator serve",
        "simulator seed",
    }


@pytest.mark.parametrize("path", [(), *_commands(cli)], ids=lambda path: " ".join(path) or "bulkcancel")
def test_every_command_answers_help(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.output and "--help" in result.output


@pytest.mark.parametrize(("name", "expected"), EXPECTED.items())
def test_each_command_has_its_shared_options(name, expected):
    assert expected <= set(_params(name))


@pytest.mark.parametrize(
    "option_set",
    [INPUT, CONNECTION, PLAN, EXECUTION, OUTPUT],
    ids=["input", "connection", "plan", "execution", "output"],
)
def test_a_shared_option_is_declared_once(option_set):
    """Same flags, type, default and help on every command that has it: one declaration, applied."""
    having = [name for name, expected in EXPECTED.items() if option_set <= expected]
    assert len(having) >= 2
    for option in option_set:
        infos = {name: _info(name, option) for name in having}
        first = next(iter(infos.values()))
        assert all(info == first for info in infos.values()), option


def test_the_product_commands_start_without_the_simulator():
    """Only `simulator` (or the list in `--help`) loads it, so `execute` is ready for a Ctrl-C sooner."""
    code = "import sys, pipeline.cli; print(sorted(m for m in sys.modules if m.startswith('pipeline.sim')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n"
