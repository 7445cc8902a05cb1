"""Shared parts of the frontend benchmarks (``resolve.py``, ``install.py``).

A *variant* is one command line of one tool (kiln, uv, pip). Rounds are interleaved
across variants; the report gives the median wall time of each variant and its ratio to
the baseline variant's median, like ``backend.py`` does for build backends.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS_PAGE = ROOT / "docs" / "src" / "benchmarks.md"
TEST_VENV = ROOT / ".cache" / "test-venv"


@dataclass(frozen=True)
class Variant:
    """One timed command: ``argv`` is built per run from the run's scratch directory."""

    name: str
    tool: str
    #: How the command reads in the report (placeholders in angle brackets).
    label: str
    argv: Callable[[Path], list[str]]
    #: Untimed preparation before each run (e.g. a fresh virtual environment).
    prepare: Callable[[Path], None] | None = None
    #: Untimed check after a run; returns the number of packages it resolved/installed.
    count: Callable[[Path], int] | None = None


@dataclass
class Failure:
    variant: str
    message: str


@dataclass
class Results:
    times: dict[str, list[float]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)

    def median(self, name: str) -> float | None:
        values = self.times.get(name)
        return statistics.median(values) if values else None


def bench_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every tool: no find-links or index settings inherited from the
    machine (neither pip's variables nor its ``pip.conf`` files, which kiln and pip read
    and uv does not), byte-code writing allowed (an installed kiln has its ``.pyc``
    files)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "KILN_")) and key != "PYTHONDONTWRITEBYTECODE"
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PYTHONPATH"] = ""
    env.update(extra or {})
    return env


def tool_paths(python: str) -> dict[str, str]:
    """``uv`` and the interpreter's scripts directory, next to ``python``."""
    scripts = Path(python).parent
    uv = scripts / "uv"
    return {"python": python, "uv": str(uv) if uv.exists() else (shutil.which("uv") or "uv")}


def kiln_command(python: str) -> list[str]:
    """How a user runs kiln: its ``kiln`` command beside the interpreter (the console script
    an install makes), else ``python -m kiln``."""
    script = Path(python).parent / ("kiln.exe" if os.name == "nt" else "kiln")
    return [str(script)] if script.exists() else [python, "-m", "kiln"]


def run_command(argv: Sequence[str], cwd: Path, env: Mapping[str, str]) -> tuple[float, str]:
    """Run ``argv``; the wall time and the error text ("" on success)."""
    start = time.perf_counter()
    proc = subprocess.run(
        list(argv), cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        return elapsed, lines[-1] if lines else f"exit status {proc.returncode}"
    return elapsed, ""


def measure(
    variants: Sequence[Variant],
    work: Path,
    env: Mapping[str, str],
    rounds: int,
    warmup: int,
    *,
    before_run: Callable[[Variant], None] | None = None,
    progress: bool = True,
) -> Results:
    """Interleaved rounds: every round runs each variant once, in order."""
    results = Results()
    for round_index in range(warmup + rounds):
        timed = round_index >= warmup
        for variant in variants:
            if variant.name in results.failures:
                continue
            run_dir = work / "runs" / variant.name
            shutil.rmtree(run_dir, ignore_errors=True)
            run_dir.mkdir(parents=True)
            if variant.prepare is not None:
                variant.prepare(run_dir)
            if before_run is not None:
                before_run(variant)
            elapsed, error = run_command(variant.argv(run_dir), run_dir, env)
            if error:
                results.failures[variant.name] = Failure(variant.name, error)
                continue
            if variant.count is not None and variant.name not in results.counts:
                results.counts[variant.name] = variant.count(run_dir)
            if timed:
                results.times.setdefault(variant.name, []).append(elapsed)
        if progress:
            label = "warm-up" if not timed else f"round {round_index - warmup + 1}/{rounds}"
            print(f"{label} done", file=sys.stderr, flush=True)
    return results


def version_of(argv: Sequence[str], env: Mapping[str, str]) -> str:
    proc = subprocess.run(
        list(argv), env=dict(env), capture_output=True, text=True, check=False
    )
    words = (proc.stdout or proc.stderr).split()
    return words[1] if len(words) > 1 else "?"


def _ms(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.0f} ms"


def markdown_report(
    results: Results,
    variants: Sequence[Variant],
    versions: Mapping[str, str],
    baseline: str,
    settings: Mapping[str, str],
    *,
    count_label: str,
    pairs: Mapping[str, str] | None = None,
) -> str:
    """The results table, a line on reading it, and the settings table. ``pairs`` maps a
    variant to the one its ratio is taken against (default: ``baseline``)."""
    lines = [
        f"| tool | command | version | {count_label} | median | ratio |",
        "| --- | --- | --- | ---: | ---: | ---: |",
    ]
    for variant in variants:
        value = results.median(variant.name)
        against = (pairs or {}).get(variant.name, baseline)
        base = results.median(against)
        if variant.name in results.failures:
            time_text, ratio = "failed", "-"
        elif value is None:
            time_text, ratio = "-", "-"
        else:
            time_text = _ms(value)
            ratio = f"{value / base:.2f}x" if base else "-"
        count = results.counts.get(variant.name)
        lines.append(
            f"| {variant.tool} | `{variant.label}` | {versions.get(variant.tool, '?')} | "
            f"{'-' if count is None else count} | {time_text} | {ratio} |"
        )
    lines.append("")
    if pairs:
        lines.append(
            "Median wall time of the whole command in a fresh process; the ratio is the "
            "median divided by that of the same step done by "
            f"`{baseline.split('-', 1)[0]}` (above 1.00x means "
            f"`{baseline.split('-', 1)[0]}` is faster)."
        )
    else:
        lines.append(
            f"Median wall time of the whole command in a fresh process; the ratio is the median "
            f"divided by `{baseline}`'s (above 1.00x means `{baseline}` is faster)."
        )
    lines.append("")
    lines.append("| setting | value |")
    lines.append("| --- | --- |")
    lines.extend(f"| {key} | {value} |" for key, value in settings.items())
    if results.failures:
        lines.append("")
        lines.append("Failed measurements:")
        lines.append("")
        lines.extend(f"- `{f.variant}`: {f.message}" for f in results.failures.values())
    return "\n".join(lines) + "\n"


def write_into_page(page: Path, report: str, block: str) -> None:
    """Replace the text between ``<!-- <block>:start -->`` and ``<!-- <block>:end -->``."""
    start_marker, end_marker = f"<!-- {block}:start -->", f"<!-- {block}:end -->"
    text = page.read_text(encoding="utf-8")
    start = text.find(start_marker)
    end = text.find(end_marker)
    if start < 0 or end < start:
        raise ValueError(f"`{page}` has no `{start_marker}` ... `{end_marker}` block")
    updated = text[: start + len(start_marker)] + "\n" + report + text[end:]
    tmp = page.with_suffix(".md.tmp")
    tmp.write_text(updated, encoding="utf-8")
    tmp.replace(page)


def publish(report: str, results: Results, args: argparse.Namespace, block: str) -> int:
    """Print ``report``; with ``--write``, also put it into the ``block`` of ``--page``. The
    exit status: 1 when a measurement failed or the page could not be written."""
    print(report, end="")
    if args.write:
        try:
            write_into_page(args.page, report, block)
        except (OSError, ValueError) as exc:
            print(f"error: cannot write the results: {exc}", file=sys.stderr)
            return 1
        print(f"wrote the results into `{args.page}`", file=sys.stderr)
    return 1 if results.failures else 0


def count_pins(path: Path) -> int:
    """``name==version`` lines of a requirements file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return 0
    return sum(1 for line in text.splitlines() if "==" in line and not line.startswith("#"))


def count_dist_infos(venv: Path) -> int:
    """Installed distributions in a virtual environment."""
    found = 0
    for site in venv.glob("lib/python*/site-packages"):
        found += sum(1 for entry in site.iterdir() if entry.name.endswith(".dist-info"))
    return found


def tool_list(known: Sequence[str]) -> Callable[[str], list[str]]:
    """An argparse ``type`` for ``--tools``: a comma-separated subset of ``known``."""

    def parse(value: str) -> list[str]:
        chosen = [item.strip() for item in value.split(",") if item.strip()]
        unknown = [item for item in chosen if item not in known]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(
                f"unknown tool {', '.join(unknown)}; use {', '.join(known)}"
            )
        return chosen

    return parse


def benchmark_parser(
    doc: str | None, *, tools: Sequence[str], default_tools: Sequence[str], python_help: str
) -> argparse.ArgumentParser:
    """The options every frontend benchmark has; the caller adds its own, then calls
    :func:`parse_checked`."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    parser.add_argument("--tools", default=",".join(default_tools), type=tool_list(tools),
                        help=f"comma-separated subset of {','.join(tools)}")
    parser.add_argument("--python", default=sys.executable, help=python_help)
    return parser


def parse_checked(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace:
    """Add the output options, parse ``argv`` and check the round counts."""
    parser.add_argument("--write", action="store_true",
                        help="write the table into the documentation page")
    parser.add_argument("--page", type=Path, default=DOCS_PAGE,
                        help=f"page for --write (default {DOCS_PAGE})")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.warmup < 0:
        parser.error("--rounds must be at least 1 and --warmup at least 0")
    return args
