#!/usr/bin/env python3
"""`make fuzz`: builds the cargo-fuzz targets (fuzz/, nightly) once, runs
each for a number of executions, one job at a time, and prints a table:
target, executions, crashes, coverage (libFuzzer's `cov:`, the edges
reached) and wall time. Exits 1 when a target crashed, 2 when it could not
run at all.

    scripts/fuzz.py [--runs N] [--targets a,b] [--markdown]

FUZZ_RUNS and FUZZ_TARGETS (comma- or space-separated) are the defaults of
the two options. Each target's working corpus is fuzz/target/corpus/<target>
(kept between runs, not committed), seeded from fuzz/corpus/<target>; its
log is fuzz/target/logs/<target>.log; a crash input is written to
fuzz/artifacts/<target>/. A crash is fixed, and its input kept in
fuzz/regressions/<target>/, which `cargo test` replays (docs/fuzzing.md).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
# Safe Rust: the address sanitizer would double each run's time and the
# build's for little (docs/fuzzing.md). FUZZ_SANITIZER=address turns it on.
SANITIZER = os.environ.get("FUZZ_SANITIZER", "none")
TRIPLE = "x86_64-unknown-linux-gnu"
# A target never waits longer than this for one input (libFuzzer's -timeout).
INPUT_TIMEOUT_S = 25


def targets_in_manifest() -> list[str]:
    text = (FUZZ / "Cargo.toml").read_text()
    return re.findall(r'^\[\[bin\]\]\s*\nname = "([^"]+)"', text, flags=re.M)


def fuzz_env() -> dict[str, str]:
    """Nightly's own cargo first on PATH (cargo-fuzz runs `cargo` from it;
    a wrapper earlier on PATH could send the build elsewhere), and fuzz/'s
    own target dir: the main workspace's would get nightly, instrumented
    builds mixed into it."""
    env = {**os.environ, "RUSTUP_TOOLCHAIN": "nightly", "CARGO_TARGET_DIR": str(FUZZ / "target")}
    sysroot = subprocess.run(["rustup", "run", "nightly", "rustc", "--print", "sysroot"],
                             capture_output=True, text=True)
    if sysroot.returncode == 0:
        env["PATH"] = f"{sysroot.stdout.strip()}/bin{os.pathsep}{env.get('PATH', '')}"
    return env


def cargo_fuzz(*args: str) -> list[str]:
    return ["cargo", "fuzz", *args]


def check_tools() -> str | None:
    if shutil.which("rustup") is None:
        return "rustup is not on PATH"
    nightly = subprocess.run(["rustup", "run", "nightly", "rustc", "--version"], capture_output=True, text=True)
    if nightly.returncode != 0:
        return "no nightly toolchain: rustup toolchain install nightly"
    fuzz = subprocess.run(cargo_fuzz("--version"), capture_output=True, text=True, env=fuzz_env())
    if fuzz.returncode != 0:
        return "cargo-fuzz is missing: cargo install cargo-fuzz --locked"
    return None


def parse(log: str) -> tuple[int | None, int | None]:
    """Executions and coverage from libFuzzer's output."""
    runs = re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
    cov = re.findall(r"\bcov: (\d+)", log)
    return (int(runs[-1]) if runs else None, int(cov[-1]) if cov else None)


def run_target(name: str, runs: int) -> dict:
    binary = FUZZ / "target" / TRIPLE / "release" / name
    work = FUZZ / "target" / "corpus" / name
    seeds = FUZZ / "corpus" / name
    artifacts = FUZZ / "artifacts" / name
    logs = FUZZ / "target" / "logs"
    for d in (work, artifacts, logs):
        d.mkdir(parents=True, exist_ok=True)
    cmd = [str(binary), f"-runs={runs}", "-print_final_stats=1", f"-timeout={INPUT_TIMEOUT_S}",
           f"-artifact_prefix={artifacts}/", str(work), str(seeds)]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", cwd=FUZZ)
    seconds = time.monotonic() - start
    log = proc.stdout + proc.stderr
    (logs / f"{name}.log").write_text(log)
    executions, coverage = parse(log)
    found = re.findall(r"Test unit written to (\S+)", log)
    crashed = proc.returncode != 0
    return {"target": name, "executions": executions, "crashes": max(len(found), int(crashed)),
            "coverage": coverage, "seconds": seconds, "artifacts": found, "returncode": proc.returncode}


def table(rows: list[dict], markdown: bool) -> str:
    head = ("target", "executions", "crashes", "coverage", "wall time")
    cells = [(r["target"], f"{r['executions']:,}" if r["executions"] is not None else "?", str(r["crashes"]),
              str(r["coverage"]) if r["coverage"] is not None else "?", f"{r['seconds']:.0f} s") for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|---|---:|---:|---:|---:|"]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(head, *cells)]
    fmt = "  ".join(f"{{:{'<' if i == 0 else '>'}{w}}}" for i, w in enumerate(widths))
    return "\n".join([fmt.format(*head)] + [fmt.format(*c) for c in cells])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=int(os.environ.get("FUZZ_RUNS") or 1_000_000))
    ap.add_argument("--targets", default=os.environ.get("FUZZ_TARGETS", ""))
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    args = ap.parse_args()
    known = targets_in_manifest()
    chosen = [t for t in re.split(r"[,\s]+", args.targets) if t] or known
    unknown = [t for t in chosen if t not in known]
    if unknown:
        print(f"unknown fuzz targets: {', '.join(unknown)} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    problem = check_tools()
    if problem:
        print(f"make fuzz: {problem}", file=sys.stderr)
        return 2
    build = subprocess.run(cargo_fuzz("build", "-s", SANITIZER, *chosen[:1] if len(chosen) == 1 else ()),
                           cwd=FUZZ, env=fuzz_env())
    if build.returncode != 0:
        print("make fuzz: the fuzz targets did not build", file=sys.stderr)
        return 2
    rows = []
    for name in chosen:
        row = run_target(name, args.runs)
        rows.append(row)
        print(f"{name}: {row['executions']} executions, {row['crashes']} crashes, cov {row['coverage']}, "
              f"{row['seconds']:.0f} s", flush=True)
    print()
    print(table(rows, args.markdown))
    crashed = [r for r in rows if r["crashes"]]
    for r in crashed:
        where = ", ".join(r["artifacts"]) or f"exit {r['returncode']}, see fuzz/target/logs/{r['target']}.log"
        print(f"CRASH {r['target']}: {where}", file=sys.stderr)
    if crashed:
        print("Fix it, then keep the input in fuzz/regressions/<target>/ (cargo test replays it).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
