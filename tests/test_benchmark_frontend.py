"""benchmarks/toolbench.py, shared by resolve.py and install.py: rounds, table, page blocks.

The benchmarks themselves need PyPI; these checks run tiny local commands instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import toolbench  # noqa: E402
from toolbench import Variant  # noqa: E402


def _write_pins(directory: Path, count: int) -> None:
    lines = [f"pkg{i}==1.0" for i in range(count)]
    (directory / "out.txt").write_text("# header\n" + "\n".join(lines) + "\n", encoding="utf-8")


def _variant(name: str, code: str, pins: int) -> Variant:
    return Variant(
        name, name, f"python -c {name}",
        lambda d: [sys.executable, "-c", code],
        prepare=lambda d: _write_pins(d, pins),
        count=lambda d: toolbench.count_pins(d / "out.txt"),
    )


def test_rounds_time_every_variant_and_record_failures_once(tmp_path: Path) -> None:
    variants = [
        _variant("fast", "pass", 3),
        _variant("broken", "raise SystemExit('no index here')", 0),
    ]
    results = toolbench.measure(
        variants, tmp_path, toolbench.bench_env(), rounds=2, warmup=1, progress=False
    )
    assert len(results.times["fast"]) == 2
    assert results.counts == {"fast": 3}
    assert results.failures["broken"].message == "no index here"
    report = toolbench.markdown_report(
        results, variants, {"fast": "1.0"}, "fast", {"rounds": "2"}, count_label="packages"
    )
    rows = [line for line in report.splitlines() if line.startswith(("| fast", "| broken"))]
    assert rows[0].startswith("| fast | `python -c fast` | 1.0 | 3 |")
    assert rows[0].endswith("| 1.00x |")
    assert "| failed | - |" in rows[1]
    assert "- `broken`: no index here" in report


def test_bench_env_drops_tool_settings_of_the_calling_shell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_FIND_LINKS", "/somewhere")
    monkeypatch.setenv("UV_INDEX_URL", "https://mirror.example/simple")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    env = toolbench.bench_env({"KILN_CACHE_DIR": "/tmp/cache"})
    assert "PIP_FIND_LINKS" not in env and "UV_INDEX_URL" not in env
    assert "PYTHONDONTWRITEBYTECODE" not in env
    assert env["PIP_CONFIG_FILE"] == os.devnull  # no machine-wide pip.conf either
    assert env["KILN_CACHE_DIR"] == "/tmp/cache"


def test_results_go_into_their_own_block_of_the_page(tmp_path: Path) -> None:
    page = tmp_path / "benchmarks.md"
    page.write_text(
        "intro\n<!-- resolve-results:start -->\nold\n<!-- resolve-results:end -->\n"
        "<!-- install-results:start -->\nkept\n<!-- install-results:end -->\n",
        encoding="utf-8",
    )
    toolbench.write_into_page(page, "| new |\n", "resolve-results")
    assert page.read_text(encoding="utf-8") == (
        "intro\n<!-- resolve-results:start -->\n| new |\n<!-- resolve-results:end -->\n"
        "<!-- install-results:start -->\nkept\n<!-- install-results:end -->\n"
    )
    with pytest.raises(ValueError, match="resolve-results-cold"):
        toolbench.write_into_page(page, "x\n", "resolve-results-cold")


def test_publish_prints_writes_and_fails_on_a_failed_measurement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    page = tmp_path / "benchmarks.md"
    page.write_text("<!-- project-results:start -->\nold\n<!-- project-results:end -->\n")
    args = argparse.Namespace(write=True, page=page)
    assert toolbench.publish("| new |\n", toolbench.Results(), args, "project-results") == 0
    assert "| new |\n" in page.read_text()
    assert capsys.readouterr().out == "| new |\n"
    failed = toolbench.Results(failures={"kiln": toolbench.Failure("kiln", "boom")})
    assert toolbench.publish("x\n", failed, argparse.Namespace(write=False), "project-results") == 1
    missing = argparse.Namespace(write=True, page=page)
    assert toolbench.publish("x\n", toolbench.Results(), missing, "no-such-block") == 1


def test_installed_distributions_are_counted_in_site_packages(tmp_path: Path) -> None:
    site = tmp_path / "venv" / "lib" / "python3.12" / "site-packages"
    for name in ("a-1.0.dist-info", "b-2.0.dist-info", "a"):
        (site / name).mkdir(parents=True)
    (site / "c.pth").write_text("", encoding="utf-8")
    assert toolbench.count_dist_infos(tmp_path / "venv") == 2


def test_the_conflict_set_runs_kiln_and_uv_for_python_3_11() -> None:
    import resolve

    args = resolve.parse_args(["--set", "conflict"])
    assert args.tools == ["kiln", "uv"]
    chosen = resolve.SETS["conflict"]
    assert chosen.roots == ("celery[redis]", "black")
    variants = resolve.variants(sys.executable, Path("requirements.in"), args.tools,
                                chosen.python_version)
    commands = [v.argv(Path("work")) for v in variants]
    assert all(c[c.index("--python-version") + 1] == "3.11" for c in commands)
    with pytest.raises(SystemExit):
        resolve.parse_args(["--set", "conflict", "--tools", "pip"])
    assert resolve.parse_args([]).tools == ["kiln", "uv", "pip"]
