#!/usr/bin/env python3
"""Time one PEP 517 hook call, in a fresh process, for several pure-Python build backends.

Each measurement runs ``python -c "import <backend>; <backend>.<hook>(out)"`` with a generated
project as the current directory, so it includes interpreter start-up and the backend's imports:
the cost a frontend pays per build. Rounds are interleaved across backends, projects and hooks;
the report gives medians and the ratio of each backend's median to kiln_build's.

Every measurement is a first build: kiln_build keeps no cache (``--cold`` says so explicitly
and is what the documentation's table is made with).

Usage: python benchmarks/backend.py [--cold] [--rounds N] [--modules N] [--backends a,b] [--write]
See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS_PAGE = ROOT / "docs" / "src" / "benchmarks.md"
START_MARKER = "<!-- benchmark-results:start -->"
END_MARKER = "<!-- benchmark-results:end -->"

PACKAGE = "benchpkg"
MODULES_PER_SUBPACKAGE = 100
HOOKS = ("build_wheel", "build_sdist")
SIZES = ("tiny", "large")
BASELINE = "kiln_build"


@dataclass(frozen=True)
class Backend:
    """A build backend and the ``pyproject.toml`` text that selects it."""

    name: str
    hook_module: str
    distribution: str
    requirement: str
    tool_config: str = ""


BACKENDS: tuple[Backend, ...] = (
    Backend("kiln_build", "kiln_build", "kiln-build", "kiln-build>=0.1,<0.2"),
    Backend("uv_build", "uv_build", "uv-build", "uv_build>=0.13,<0.14"),
    Backend("flit_core", "flit_core.buildapi", "flit-core", "flit_core>=3.12,<5"),
    Backend(
        "hatchling",
        "hatchling.build",
        "hatchling",
        "hatchling>=1.27",
        f'[tool.hatch.build.targets.wheel]\npackages = ["src/{PACKAGE}"]\n',
    ),
    Backend("pdm-backend", "pdm.backend", "pdm-backend", "pdm-backend>=2.4"),
)

PYPROJECT = """\
[project]
name = "{package}"
version = "1.0.0"
description = "A generated project for timing build backends"
readme = "README.md"
requires-python = ">=3.9"
license = "MIT"
license-files = ["LICENSE"]

[build-system]
requires = ["{requirement}"]
build-backend = "{hook_module}"
"""


# -- projects -----------------------------------------------------------------------------------


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_sources(root: Path, modules: int) -> None:
    """A ``src/`` layout package; ``modules`` extra modules spread over sub-packages of 100."""
    package = root / "src" / PACKAGE
    _write(package / "__init__.py", '"""A generated package."""\n\n__version__ = "1.0.0"\n')
    _write(package / "core.py", "def answer() -> int:\n    return 42\n")
    for index in range(modules):
        sub = package / f"sub{index // MODULES_PER_SUBPACKAGE:03d}"
        if index % MODULES_PER_SUBPACKAGE == 0:
            _write(sub / "__init__.py", "")
        _write(sub / f"mod{index:05d}.py", f"VALUE = {index}\n\n\ndef f(x):\n    return x + VALUE\n")
    _write(root / "README.md", f"# {PACKAGE}\n\nA generated project for timing build backends.\n")
    _write(root / "LICENSE", "MIT License\n\nPermission is hereby granted, free of charge.\n")


def write_project(root: Path, backend: Backend, sources: Path) -> None:
    """A copy of ``sources`` configured for ``backend``."""
    shutil.copytree(sources, root)
    text = PYPROJECT.format(
        package=PACKAGE, requirement=backend.requirement, hook_module=backend.hook_module
    )
    if backend.tool_config:
        text += "\n" + backend.tool_config
    _write(root / "pyproject.toml", text)


# -- running ------------------------------------------------------------------------------------


def hook_env(python: str) -> dict[str, str]:
    """The environment of a hook: the interpreter's scripts directory first on PATH, as in a
    build environment (uv_build's shim looks its executable up on PATH)."""
    env = dict(os.environ)
    scripts = str(Path(python).parent)
    env["PATH"] = scripts + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONPATH", None)
    # Installed backends come with byte-code; let an in-tree kiln_build write its own too.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def hook_code(backend: Backend, hook: str) -> str:
    return f"import sys, {backend.hook_module} as b; print(b.{hook}(sys.argv[1]))"


@dataclass
class Failure:
    cell: tuple[str, str, str]
    message: str


@dataclass
class Results:
    """Seconds per (backend, size, hook); failed cells are recorded once and not retried."""

    times: dict[tuple[str, str, str], list[float]] = field(default_factory=dict)
    failures: dict[tuple[str, str, str], Failure] = field(default_factory=dict)

    def median(self, cell: tuple[str, str, str]) -> float | None:
        values = self.times.get(cell)
        return statistics.median(values) if values else None


def run_once(python: str, args: Sequence[str], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Run ``python *args`` in ``cwd``; the wall time, and the error text ("" on success)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [python, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return elapsed, lines[-1] if lines else f"exit status {proc.returncode}"
    return elapsed, ""


def measure(
    python: str,
    backends: Sequence[Backend],
    projects: dict[tuple[str, str], Path],
    sizes: Sequence[str],
    hooks: Sequence[str],
    rounds: int,
    warmup: int,
    scratch: Path,
    progress: bool,
) -> tuple[Results, list[float]]:
    """Interleaved rounds; returns the hook results and the ``python -c pass`` floor times."""
    env = hook_env(python)
    results = Results()
    floor: list[float] = []
    for round_index in range(warmup + rounds):
        timed = round_index >= warmup
        elapsed, _ = run_once(python, ["-c", "pass"], scratch, env)
        if timed:
            floor.append(elapsed)
        for size in sizes:
            for hook in hooks:
                for backend in backends:
                    cell = (backend.name, size, hook)
                    if cell in results.failures:
                        continue
                    out = Path(tempfile.mkdtemp(prefix="out-", dir=scratch))
                    code = hook_code(backend, hook)
                    elapsed, error = run_once(
                        python, ["-c", code, str(out)], projects[(backend.name, size)], env
                    )
                    shutil.rmtree(out, ignore_errors=True)
                    if error:
                        results.failures[cell] = Failure(cell, error)
                    elif timed:
                        results.times.setdefault(cell, []).append(elapsed)
        if progress:
            label = "warm-up" if not timed else f"round {round_index - warmup + 1}/{rounds}"
            print(f"{label} done", file=sys.stderr, flush=True)
    return results, floor


# -- import time --------------------------------------------------------------------------------


def parse_importtime(stderr: str) -> dict[str, tuple[int, int, int]]:
    """``-X importtime`` lines as name -> (self us, cumulative us, nesting depth)."""
    parsed: dict[str, tuple[int, int, int]] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        try:
            self_us, cumulative_us, name = line[len("import time:") :].split("|", 2)
        except ValueError:
            continue
        stripped = name.lstrip()
        depth = (len(name) - len(stripped) - 1) // 2
        parsed[stripped.strip()] = (int(self_us), int(cumulative_us), depth)
    return parsed


def import_profile(python: str, project: Path, scratch: Path, runs: int) -> list[tuple[str, float]]:
    """Median cumulative import time (ms) of the top-level imports made by a ``build_wheel``
    call through kiln_build, excluding what a bare interpreter imports at start-up."""
    env = hook_env(python)
    baseline = subprocess.run(
        [python, "-X", "importtime", "-c", "pass"], env=env, capture_output=True, text=True,
        check=False,
    )
    startup = set(parse_importtime(baseline.stderr))
    samples: dict[str, list[float]] = {}
    code = hook_code(BACKENDS[0], "build_wheel")
    for _ in range(runs):
        out = Path(tempfile.mkdtemp(prefix="out-", dir=scratch))
        proc = subprocess.run(
            [python, "-X", "importtime", "-c", code, str(out)],
            cwd=project, env=env, capture_output=True, text=True, check=False,
        )
        shutil.rmtree(out, ignore_errors=True)
        if proc.returncode != 0:
            raise RuntimeError(f"kiln_build failed under -X importtime: {proc.stderr.strip()}")
        for name, (_self, cumulative, depth) in parse_importtime(proc.stderr).items():
            if depth == 0 and name not in startup:
                samples.setdefault(name, []).append(cumulative / 1000)
    medians = [(name, statistics.median(values)) for name, values in samples.items()]
    return sorted(medians, key=lambda item: item[1], reverse=True)


# -- reporting ----------------------------------------------------------------------------------


def backend_versions(python: str, backends: Iterable[Backend]) -> dict[str, str]:
    """Installed version of each backend, asked of the interpreter that runs the hooks."""
    pairs = [(b.name, b.distribution, b.hook_module.split(".")[0]) for b in backends]
    code = (
        "import importlib, importlib.metadata as m, sys\n"
        f"for name, dist, mod in {pairs!r}:\n"
        "    try:\n"
        "        v = m.version(dist)\n"
        "    except m.PackageNotFoundError:\n"
        "        try:\n"
        "            v = getattr(importlib.import_module(mod), '__version__', '?')\n"
        "        except ImportError:\n"
        "            v = 'not installed'\n"
        "    print(name + '=' + v)\n"
    )
    proc = subprocess.run([python, "-c", code], capture_output=True, text=True, check=False)
    versions = {}
    for line in proc.stdout.splitlines():
        name, _, version = line.partition("=")
        versions[name] = version
    return versions


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _cell_text(results: Results, cell: tuple[str, str, str]) -> str:
    if cell in results.failures:
        return "failed"
    value = results.median(cell)
    if value is None:
        return "-"
    baseline = results.median((BASELINE, cell[1], cell[2]))
    if baseline is None:
        return _ms(value)
    return f"{_ms(value)} ({value / baseline:.2f}x)"


def markdown_report(
    results: Results,
    floor: Sequence[float],
    backends: Sequence[Backend],
    versions: dict[str, str],
    sizes: Sequence[str],
    hooks: Sequence[str],
    settings: dict[str, str],
    imports: Sequence[tuple[str, float]] = (),
) -> str:
    columns = [(size, hook) for size in sizes for hook in hooks]
    lines = [
        "| backend | version | "
        + " | ".join(f"{size} `{hook}`" for size, hook in columns)
        + " |",
        "| --- | --- |" + " ---: |" * len(columns),
    ]
    for backend in backends:
        cells = [_cell_text(results, (backend.name, size, hook)) for size, hook in columns]
        version = versions.get(backend.name, "?")
        lines.append(f"| `{backend.name}` | {version} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Median wall time of one hook call in a fresh process; in brackets, the backend's median "
        f"divided by `{BASELINE}`'s (above 1.00x means `{BASELINE}` is faster)."
    )
    if floor:
        lines.append(
            f"Interpreter start-up alone (`python -c pass`): {_ms(statistics.median(floor))}."
        )
    lines.append("")
    lines.append("| setting | value |")
    lines.append("| --- | --- |")
    lines.extend(f"| {key} | {value} |" for key, value in settings.items())
    if results.failures:
        lines.append("")
        lines.append("Failed measurements:")
        lines.append("")
        for failure in results.failures.values():
            name, size, hook = failure.cell
            lines.append(f"- `{name}` {size} `{hook}`: {failure.message}")
    if imports:
        total = sum(ms for _, ms in imports)
        lines.append("")
        lines.append(
            f"Imports made by one `{BASELINE}` `build_wheel` call on the tiny project, beyond "
            f"interpreter start-up (`-X importtime`, median cumulative time; total {total:.1f} ms):"
        )
        lines.append("")
        lines.append("| module | ms |")
        lines.append("| --- | ---: |")
        lines.extend(f"| `{name}` | {ms:.1f} |" for name, ms in imports[:15])
    return "\n".join(lines) + "\n"


def write_into_page(page: Path, report: str) -> None:
    """Replace the text between the result markers of ``page`` with ``report``."""
    start_marker, end_marker = START_MARKER, END_MARKER
    text = page.read_text(encoding="utf-8")
    start = text.find(start_marker)
    end = text.find(end_marker)
    if start < 0 or end < start:
        raise ValueError(f"`{page}` has no `{start_marker}` ... `{end_marker}` block")
    before = text[: start + len(start_marker)]
    updated = before + "\n" + report + text[end:]
    tmp = page.with_suffix(".md.tmp")
    tmp.write_text(updated, encoding="utf-8")
    tmp.replace(page)


# -- command line -------------------------------------------------------------------------------


def _choices(value: str, known: Sequence[str], what: str) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in known]
    if unknown or not chosen:
        allowed = ", ".join(known)
        raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(unknown)!s}; use {allowed}")
    return chosen


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    names = [b.name for b in BACKENDS]
    parser.add_argument("--rounds", type=int, default=7, help="timed rounds (default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument(
        "--modules", type=int, default=3000, help="modules in the large project (default 3000)"
    )
    parser.add_argument(
        "--backends", default=",".join(names),
        type=lambda v: _choices(v, names, "backend"),
        help=f"comma-separated subset of {', '.join(names)}",
    )
    parser.add_argument(
        "--sizes", default=",".join(SIZES), type=lambda v: _choices(v, SIZES, "size"),
        help="comma-separated subset of tiny,large",
    )
    parser.add_argument(
        "--hooks", default=",".join(HOOKS), type=lambda v: _choices(v, HOOKS, "hook"),
        help="comma-separated subset of build_wheel,build_sdist",
    )
    parser.add_argument(
        "--python", default=sys.executable,
        help="interpreter that runs the hooks; every backend must be importable in it "
        "(default: this interpreter)",
    )
    parser.add_argument(
        "--importtime", action="store_true",
        help="also report kiln_build's import cost with -X importtime",
    )
    parser.add_argument(
        "--write", action="store_true", help="write the table into the documentation page"
    )
    parser.add_argument(
        "--page", type=Path, default=DOCS_PAGE, help=f"page for --write (default {DOCS_PAGE})"
    )
    parser.add_argument(
        "--cold", action="store_true",
        help="time first builds, with no cache of any backend (kiln_build keeps none, so "
        "this is also the default)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0 or args.modules < 0:
        parser.error("--rounds must be at least 1, --warmup and --modules at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    backends = [b for b in BACKENDS if b.name in args.backends]
    with tempfile.TemporaryDirectory(prefix="kiln-bench-") as tmp:
        scratch = Path(tmp)
        projects: dict[tuple[str, str], Path] = {}
        for size in args.sizes:
            sources = scratch / "sources" / size
            write_sources(sources, args.modules if size == "large" else 0)
            for backend in backends:
                project = scratch / "projects" / size / backend.name
                write_project(project, backend, sources)
                projects[(backend.name, size)] = project
        results, floor = measure(
            args.python, backends, projects, args.sizes, args.hooks,
            args.rounds, args.warmup, scratch, progress=not args.quiet,
        )
        imports: list[tuple[str, float]] = []
        if args.importtime and (BASELINE, "tiny") in projects:
            try:
                imports = import_profile(args.python, projects[(BASELINE, "tiny")], scratch, 5)
            except RuntimeError as exc:
                print(f"warning: {exc}", file=sys.stderr)
    python_version = subprocess.run(
        [args.python, "-c", "import platform; print(platform.python_version())"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()
    settings = {
        "date": datetime.date.today().isoformat(),
        "Python": python_version or "?",
        "platform": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "rounds": f"{args.rounds} timed, {args.warmup} warm-up",
        "large project": f"{args.modules} modules",
        "caches": "none: every hook call is a first build (no backend keeps a cache)",
    }
    report = markdown_report(
        results, floor, backends, backend_versions(args.python, backends),
        args.sizes, args.hooks, settings, imports,
    )
    print(report, end="")
    if args.write:
        try:
            write_into_page(args.page, report)
        except (OSError, ValueError) as exc:
            print(f"error: cannot write the results: {exc}", file=sys.stderr)
            return 1
        print(f"wrote the results into `{args.page}`", file=sys.stderr)
    for failure in results.failures.values():
        name, size, hook = failure.cell
        print(f"warning: `{name}` failed on the {size} project in `{hook}`", file=sys.stderr)
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
