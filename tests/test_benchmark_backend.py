"""benchmarks/backend.py: a small real run produces the table and writes it into a page."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "backend.py"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--quiet", "--rounds", "1", "--warmup", "0", *args],
        capture_output=True,
        text=True,
    )


def test_benchmark_table_has_a_row_per_backend_and_writes_into_the_page(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(
        "# Benchmarks\n\nbefore\n<!-- benchmark-results:start -->\nold results\n"
        "<!-- benchmark-results:end -->\nafter\n",
        encoding="utf-8",
    )
    proc = _run(
        "--modules", "20", "--backends", "kiln_build,uv_build,flit_core",
        "--hooks", "build_wheel", "--write", "--page", str(page),
    )
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["kiln_build", "uv_build", "flit_core"]
    assert "(1.00x)" in rows[0]
    assert "tiny `build_wheel`" in proc.stdout and "large `build_wheel`" in proc.stdout
    text = page.read_text(encoding="utf-8")
    assert "old results" not in text
    assert text.startswith("# Benchmarks\n\nbefore\n<!-- benchmark-results:start -->\n| backend |")
    assert text.endswith("<!-- benchmark-results:end -->\nafter\n")
    assert proc.stdout in text


def test_benchmark_reports_a_failing_backend_and_exits_1(tmp_path: Path) -> None:
    # A Python without the backends installed: every hook fails to import its backend.
    venv = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    proc = _run("--sizes", "tiny", "--hooks", "build_sdist", "--backends", "flit_core",
                "--python", str(python))
    assert proc.returncode == 1
    assert "| `flit_core` | not installed | failed |" in proc.stdout
    assert "ModuleNotFoundError" in proc.stdout
    assert "warning: `flit_core` failed on the tiny project in `build_sdist`" in proc.stderr


def test_benchmark_rejects_an_unknown_backend() -> None:
    proc = _run("--backends", "setuptools")
    assert proc.returncode == 2
    assert "unknown backend setuptools" in proc.stderr


def test_cold_mode_times_first_builds_of_kiln_build_and_flit_core_side_by_side() -> None:
    proc = _run("--cold", "--sizes", "tiny", "--hooks", "build_wheel",
                "--backends", "kiln_build,flit_core")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["kiln_build", "flit_core"]
    assert rows[1].endswith("x) |") and "(1.00x)" in rows[0]
    assert "| caches | none: every hook call is a first build" in proc.stdout
