"""The docs cannot drift from the repository: every file they name exists,
every link and anchor resolves, docs/api.md lists exactly the template's
routes, and the README's walk-through excerpts are lines of the scripts
`make test` runs (tests/e2e/test_walkthroughs.py)."""
import re
import subprocess
from pathlib import Path

import pytest

from helpers.stack import ROOT
from helpers.template import template

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TOP = {"shared", "functions", "local", "audio-socket", "scripts", "tests", "docs", "events", "deploy",
       ".github", ".ci"}
EXTENSIONS = {"rs", "py", "sh", "md", "yaml", "yml", "toml", "txt", "json", "wav", "lock"}

# Named before they exist, each until the change that brings it lands:
# the test fails once one exists (or is no longer cited), so the entry goes.
PENDING: set[tuple[str, str]] = set()
# Rust names (`api::vonage::answer_call`) the docs cite that the code no
# longer has; same rule. docs/architecture.md is being redrawn from the code
# by the restructuring (issue 17), which empties this set.
DEAD_RUST_NAMES: set[tuple[str, str]] = set()
# Routes docs/api.md describes ahead of the template, same rule.
UPCOMING_ROUTES: set[tuple[str, str]] = set()


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if (ROOT / line).exists()]


def code_spans(text: str) -> list[str]:
    """Inline `code` outside fenced blocks."""
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", prose)]


def path_like(name: str) -> bool:
    """A path under one of the repository's folders (`scripts/stack.py`,
    `events/`), or a file name with a source or data extension, bare or
    relative to some folder (`keys.rs`, `store/keys.rs`). Not routes
    (`/vonage/answer`), MIME types, Rust paths or placeholders."""
    if name.startswith("/") or not re.fullmatch(r"[A-Za-z0-9_.\-/]+", name):
        return False
    if "/" in name and name.split("/")[0] in TOP:
        return True
    last = name.rstrip("/").rsplit("/", 1)[-1]
    return ("." in last and last.rsplit(".", 1)[1] in EXTENSIONS) or last in ("Makefile", "Dockerfile")


def exists(name: str, files: list[str]) -> bool:
    """At the root; or, for a name relative to some folder (`store/keys.rs`,
    `keys.rs`), as the tail of a file or folder in the repository."""
    if (ROOT / name).exists():
        return True
    if name.split("/")[0] in TOP:
        return False
    tail = "/" + name.strip("/")
    return any(("/" + f).endswith(tail) or tail + "/" in "/" + f for f in files)


def cited_names():
    for doc in DOCS:
        for name in code_spans(doc.read_text()):
            if path_like(name):
                yield doc.relative_to(ROOT).as_posix(), name


def test_path_like_names_are_recognised():
    # The rule the next test relies on, on names the docs use.
    for name in ("shared/src/store/keys.rs", "scripts/stack.py", "tests/conformance", "events/", "keys.rs",
                 "store/sessions.rs", "template.yaml", "requirements-dev.txt", ".github/workflows/ci.yml",
                 "Makefile"):
        assert path_like(name), name
    for name in ("/vonage/answer", "application/json", "audio/l16;rate=16000", "make run", "api::vonage",
                 "functions/<name>/", "0.4", "v1.4.0", "callmask-dev", ".venv", "$B/numbers"):
        assert not path_like(name), name


def test_every_file_the_docs_name_exists():
    files = tracked_files()
    dead = sorted({(doc, name) for doc, name in cited_names() if not exists(name, files)} - PENDING)
    assert not dead, "the docs name files that do not exist (fix the doc):\n" + "\n".join(
        f"  {doc}: `{name}`" for doc, name in dead)


def test_pending_names_are_still_pending():
    for doc, name in sorted(PENDING):
        assert name in (ROOT / doc).read_text(), f"{doc} no longer cites `{name}`: remove it from PENDING"
        assert not (ROOT / name).exists(), f"`{name}` exists now: remove it from PENDING"


# Where a Rust path starts: the workspace's crates; a path without a crate
# is the shared crate's (the docs' habit).
CRATES = {"callmask": "shared/src", "callmask_local": "local/src", "audio_socket": "audio-socket/src",
          "fuzz_checks": "fuzz/checks/src"}
RUST_PATH = re.compile(r"(?:[a-z_][a-z0-9_]*::)+(?:[A-Za-z_][A-Za-z0-9_]*|\{[A-Za-z0-9_, ]+\})")


def rust_names(span: str) -> list[str]:
    """`config::{A, B}` -> [config::A, config::B]; a span that is not one
    Rust path (prose, a type's method such as `PhoneNumber::parse`) -> []."""
    if not RUST_PATH.fullmatch(span):
        return []
    head, _, last = span.rpartition("::")
    if last.startswith("{"):
        return [f"{head}::{item.strip()}" for item in last.strip("{}").split(",") if item.strip()]
    return [span]


def module_file(src: Path, parts: list[str]) -> Path | None:
    base = src.joinpath(*parts)
    for candidate in (base.with_suffix(".rs"), base / "mod.rs"):
        if candidate.exists():
            return candidate
    return None


def rust_name_exists(name: str) -> bool:
    """Modules as far as files go, then at most one item defined (or
    re-exported) in the last module."""
    parts = name.split("::")
    src = ROOT / CRATES.get(parts[0], "shared/src")
    if parts[0] in CRATES:
        parts = parts[1:]
    found, file = 0, src / "lib.rs"
    while found < len(parts) and (f := module_file(src, parts[:found + 1])) is not None:
        found, file = found + 1, f
    rest = parts[found:]
    if not rest:
        return True
    if len(rest) > 1:
        return False
    item = re.escape(rest[0])
    text = file.read_text()
    return bool(re.search(rf"\b(struct|enum|fn|const|static|type|trait|mod)\s+{item}\b", text)
                or re.search(rf"^\s*pub(\([a-z]+\))?\s+use\s[^;]*\b{item}\b", text, flags=re.M))


def cited_rust_names():
    for doc in DOCS:
        for span in code_spans(doc.read_text()):
            for name in rust_names(span):
                yield doc.relative_to(ROOT).as_posix(), name


def test_rust_names_are_recognised_and_resolved():
    assert rust_names("config::{CoreConfig, VonageConfig}") == ["config::CoreConfig", "config::VonageConfig"]
    assert rust_names("PhoneNumber::parse") == [] and rust_names("make run") == []
    assert rust_name_exists("domain::routing::CallPlan") and rust_name_exists("callmask_local::ROUTES")
    assert not rust_name_exists("domain::routing::NoSuchThing") and not rust_name_exists("no_such_module::X")


def test_every_rust_name_the_docs_cite_exists():
    dead = sorted({(doc, name) for doc, name in cited_rust_names() if not rust_name_exists(name)} - DEAD_RUST_NAMES)
    assert not dead, "the docs cite Rust names the code does not have (fix the doc):\n" + "\n".join(
        f"  {doc}: `{name}`" for doc, name in dead)


def test_dead_rust_names_are_still_dead():
    cited = set(cited_rust_names())
    for doc, name in sorted(DEAD_RUST_NAMES):
        assert (doc, name) in cited and not rust_name_exists(name), \
            f"{doc}: `{name}` is fixed or no longer cited: remove it from DEAD_RUST_NAMES"


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(doc) -> set[str]:
    text = re.sub(r"^```.*?^```", "", doc.read_text(), flags=re.S | re.M)
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def test_every_link_and_anchor_resolves():
    broken = []
    for doc in DOCS:
        text = re.sub(r"^```.*?^```", "", doc.read_text(), flags=re.S | re.M)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            linked = (doc.parent / path).resolve() if path else doc
            rel = linked.relative_to(ROOT).as_posix() if linked.is_relative_to(ROOT) else str(linked)
            if (doc.relative_to(ROOT).as_posix(), rel) in PENDING:
                continue
            if not linked.exists():
                broken.append(f"{doc.name}: {target} (no such file)")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{doc.name}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def template_routes() -> set[tuple[str, str]]:
    routes = set()
    for res in template()["Resources"].values():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for ev in res["Properties"]["Events"].values():
            if ev["Type"] == "HttpApi":
                routes.add((ev["Properties"]["Method"].upper(), ev["Properties"]["Path"]))
    return routes


def documented_routes() -> set[tuple[str, str]]:
    """The first `code` of each table row of docs/api.md: `GET|POST /path`."""
    routes = set()
    for line in (ROOT / "docs" / "api.md").read_text().splitlines():
        m = re.match(r"\| `([A-Z|\\]+) (/[^` ]*)`", line)
        if m:
            for method in m.group(1).replace("\\", "").split("|"):
                routes.add((method, m.group(2)))
    return routes


def test_the_api_reference_lists_every_route_of_the_template():
    declared, documented = template_routes(), documented_routes()
    assert declared - documented == set(), "routes missing from docs/api.md"
    assert documented - declared - UPCOMING_ROUTES == set(), "docs/api.md describes routes the template lacks"
    for route in UPCOMING_ROUTES:
        assert route in documented, f"{route} is no longer in docs/api.md: remove it from UPCOMING_ROUTES"
        assert route not in declared, f"{route} is in template.yaml now: remove it from UPCOMING_ROUTES"


def normalized(line: str) -> str:
    """A line as shown: `out=$(CMD)  # c` reads `CMD  # c` (the script keeps
    what it checks; the README shows what you type)."""
    line = re.sub(r"^\w+=\$\(", "", line.strip())
    line = re.sub(r"\)(\s*(#.*)?)$", r"\1", line)
    return " ".join(line.split())


def excerpts():
    """(script, lines) for each README block marked as a walk-through's."""
    text = (ROOT / "README.md").read_text()
    for m in re.finditer(r"<!-- walkthrough: (\S+) -->\n```sh\n(.*?)^```", text, flags=re.S | re.M):
        yield m.group(1), [line for line in m.group(2).splitlines() if line.strip()]


def test_readme_excerpts_are_lines_of_their_scripts_in_order():
    seen = set()
    for script, lines in excerpts():
        path = ROOT / script
        assert path.exists(), script
        seen.add(path)
        body = [normalized(line) for line in path.read_text().splitlines()]
        at = 0
        for line in lines:
            want = normalized(line)
            try:
                at = body.index(want, at) + 1
            except ValueError:
                pytest.fail(f"README.md shows a line that {script} does not run (or not in this order):\n  {line}")
    scripts = {p for p in (ROOT / "scripts" / "walkthrough").glob("*.sh") if p.name != "lib.sh"}
    assert scripts and scripts <= seen, f"walk-throughs the README does not show: {sorted(scripts - seen)}"


def test_the_readme_starts_each_walkthrough_on_the_stack_its_script_names():
    readme = (ROOT / "README.md").read_text()
    for script in sorted((ROOT / "scripts" / "walkthrough").glob("*.sh")):
        if script.name == "lib.sh":
            continue
        stack = re.search(r"^# stack: (make run.*)$", script.read_text(), flags=re.M).group(1)
        path = script.relative_to(ROOT).as_posix()
        assert f"`{stack}`, then `{path}`" in readme, f"README.md: say `{stack}`, then `{path}`"


def test_every_readme_snippet_that_talks_to_the_stack_is_a_walkthrough_excerpt():
    text = (ROOT / "README.md").read_text()
    for m in re.finditer(r"(<!-- walkthrough: \S+ -->\n)?```sh\n(.*?)^```", text, flags=re.S | re.M):
        if "$B" in m.group(2):
            assert m.group(1), f"a README snippet uses the stack but is no script's excerpt:\n{m.group(2)}"


def test_the_readme_says_the_test_command_and_ci_runs_it():
    assert re.search(r"^(time )?make test$", (ROOT / ".ci" / "run").read_text(), flags=re.M)
    assert re.search(r"^make test +# everything CI runs", (ROOT / "README.md").read_text(), flags=re.M)
