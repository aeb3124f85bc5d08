"""The Makefile as a newcomer meets it: a bare `make` prints the targets
(and installs nothing), every user-facing target has its one help line,
and `make run` serves the very build `make test` makes."""
import os
import re
import subprocess

from helpers.stack import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()
# Internal steps, not for typing.
INTERNAL = {"debug-build"}


def make(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)


def help_lines() -> dict[str, str]:
    return dict(re.findall(r"^## ([a-z0-9-]+): (.+)$", MAKEFILE, flags=re.M))


def phony() -> set[str]:
    return set(re.search(r"^\.PHONY: (.+)$", MAKEFILE, flags=re.M).group(1).split())


def test_a_bare_make_prints_the_help_and_nothing_else():
    # First as a dry run: a bare make must not build, install or serve.
    dry = make("-n")
    assert "pip" not in dry.stdout and "cargo" not in dry.stdout and "stack.py" not in dry.stdout, dry.stdout
    bare, helped = make(), make("help")
    assert bare.returncode == 0, bare.stderr
    assert bare.stdout == helped.stdout
    listed = re.findall(r"^  make ([a-z0-9-]+) +\S", bare.stdout, flags=re.M)
    assert listed == list(help_lines()), bare.stdout


def test_every_user_facing_target_has_one_help_line():
    lines = help_lines()
    assert set(lines) == phony() - INTERNAL
    for name in lines:
        assert re.search(rf"^{re.escape(name)}:", MAKEFILE, flags=re.M), f"## {name}: names no target"
    assert all(len(text) <= 160 for text in lines.values())


def test_make_run_serves_the_build_make_test_makes():
    run, conformance = make("-n", "run"), make("-n", "conformance")
    assert run.returncode == 0 and conformance.returncode == 0, run.stderr + conformance.stderr
    build = "cargo test --workspace --no-run"
    assert build in run.stdout.splitlines() and build in conformance.stdout.splitlines()
    assert "cargo build" not in run.stdout
    assert "scripts/stack.py serve target/debug/callmask-local" in run.stdout


def test_one_rule_makes_every_venv():
    assert MAKEFILE.count("-m venv") == 1
    for venv, reqs in ((".venv", "requirements-dev.txt"), (".venv-build", "requirements-build.txt"),
                       (".venv-checkov", "requirements-checkov.txt")):
        dry = make("-n", "-B", f"{venv}/.installed")
        assert f"python3 -m venv {venv}" in dry.stdout, dry.stdout
        assert f"{venv}/bin/python -m pip install --quiet -r {reqs}" in dry.stdout, dry.stdout


def test_make_test_runs_the_three_python_suites():
    test_rule = re.search(r"^test: (.+)$", MAKEFILE, flags=re.M).group(1).split()
    assert {"conformance", "infra", "e2e"} <= set(test_rule)
    for suite in ("conformance", "infra", "e2e"):
        assert f"pytest -q tests/{suite}" in make("-n", suite).stdout
