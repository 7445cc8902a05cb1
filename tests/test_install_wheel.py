"""Installing wheels into fresh virtual environments, then using and removing them."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from wheelbuilder import make_wheel, tree

from kiln.core.install.environment import Environment
from kiln.core.install.installed import find_installed, installed_distributions
from kiln.core.install.installer import install_wheel
from kiln.core.install.removal import uninstall
from kiln.core.interpreter import Interpreter
from kiln.core.venv import create_venv
from kiln.errors import KilnError

TEST_PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]

ENTRY_POINTS = """\
[console_scripts]
demo-hello = demo.cli:main
demo-nested = demo.cli:Greeter.run

[gui_scripts]
demo-gui = demo.cli:main
"""

DEMO_FILES = {
    "demo/__init__.py": "VALUE = 42\n",
    "demo/cli.py": (
        "def main():\n    print('hello from demo')\n    return 0\n\n"
        "class Greeter:\n    @staticmethod\n    def run():\n        print('nested')\n"
    ),
    "demo-1.0.data/scripts/demo-raw": "#!python\nimport demo\nprint('raw', demo.VALUE)\n",
    "demo-1.0.data/data/share/demo/notes.txt": "shared data\n",
    "demo-1.0.data/headers/demo.h": "#define DEMO 1\n",
}

pytestmark = pytest.mark.usefixtures("isolated_cache")




@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("wheels")


@pytest.fixture(scope="session")
def demo_wheel(wheels: Path) -> Path:
    return make_wheel(
        wheels, "demo", "1.0", DEMO_FILES, entry_points=ENTRY_POINTS, requires=("missing-dep>=1",)
    )


def run(env: Environment, *args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, cwd=env.prefix).stdout


def test_installed_package_imports_and_console_scripts_run(env: Environment, demo_wheel: Path):
    install_wheel(env, demo_wheel, requested=True)
    assert run(env, str(env.python), "-c", "import demo; print(demo.VALUE)") == "42\n"
    scripts = env.scheme.scripts
    assert run(env, str(scripts / "demo-hello")) == "hello from demo\n"
    assert run(env, str(scripts / "demo-nested")) == "nested\n"
    assert run(env, str(scripts / "demo-gui")) == "hello from demo\n"
    assert (scripts / "demo-hello").read_text().startswith(f"#!{env.python}\n")


def test_data_scripts_get_the_environment_interpreter(env: Environment, demo_wheel: Path):
    install_wheel(env, demo_wheel)
    raw = env.scheme.scripts / "demo-raw"
    assert raw.read_text().splitlines()[0] == f"#!{env.python}"
    assert run(env, str(raw)) == "raw 42\n"


def test_data_directories_go_to_their_scheme_paths(env: Environment, demo_wheel: Path):
    install_wheel(env, demo_wheel)
    assert (env.prefix / "share/demo/notes.txt").read_text() == "shared data\n"
    assert (env.scheme.headers_root / "demo" / "demo.h").is_file()
    assert not list(env.site_packages.glob("*.data"))


def test_record_lists_every_installed_file_with_hashes(env: Environment, demo_wheel: Path):
    install_wheel(env, demo_wheel, requested=True, direct_url={"url": "file:///x.whl"})
    dist_info = env.site_packages / "demo-1.0.dist-info"
    rows = [line.split(",") for line in (dist_info / "RECORD").read_text().splitlines()]
    paths = {row[0] for row in rows}
    assert {
        "demo/__init__.py",
        "demo/cli.py",
        "demo-1.0.dist-info/INSTALLER",
        "demo-1.0.dist-info/REQUESTED",
        "demo-1.0.dist-info/direct_url.json",
        "demo-1.0.dist-info/RECORD",
        "../../../bin/demo-hello",
        "../../../bin/demo-raw",
        "../../../share/demo/notes.txt",
    } <= paths
    for path, digest, size in rows:
        if path.endswith("/RECORD"):
            assert (digest, size) == ("", "")
            continue
        assert digest.startswith("sha256=")
        assert (dist_info.parent / path).stat().st_size == int(size)
    assert (dist_info / "INSTALLER").read_text() == "kiln\n"


def test_pip_sees_the_installed_distribution(env: Environment, demo_wheel: Path):
    install_wheel(env, demo_wheel, requested=True)
    listing = json.loads(
        run(env, *TEST_PIP, "--python", str(env.python), "list", "--format=json")
    )
    assert {"name": "demo", "version": "1.0"} in listing
    check = subprocess.run(
        [*TEST_PIP, "--python", str(env.python), "check"], capture_output=True, text=True
    )
    assert check.returncode == 1
    assert "demo 1.0 requires missing-dep, which is not installed" in check.stdout


def test_listing_reports_requested_and_editable(env: Environment, wheels: Path):
    source = env.prefix.parent / "src"
    source.mkdir()
    (source / "editmod.py").write_text("WHERE = 'source tree'\n")
    editable = make_wheel(wheels, "edit-me", "0.1", {"edit_me.pth": f"{source}\n"})
    url = {"url": source.as_uri(), "dir_info": {"editable": True}}
    install_wheel(env, editable, direct_url=url)
    assert run(env, str(env.python), "-c", "import editmod; print(editmod.WHERE)") == (
        "source tree\n"
    )
    [dist] = installed_distributions(env)
    assert (dist.name, dist.version, dist.editable, dist.requested) == (
        "edit-me", "0.1", True, False
    )
    assert dist.installer == "kiln"
    assert dist.location == env.site_packages


def test_direct_url_never_stores_credentials(env: Environment, demo_wheel: Path):
    url = {"url": "https://user:secret@example.org/demo-1.0.whl", "archive_info": {}}
    install_wheel(env, demo_wheel, direct_url=url)
    stored = (env.site_packages / "demo-1.0.dist-info" / "direct_url.json").read_text()
    assert json.loads(stored)["url"] == "https://example.org/demo-1.0.whl"


def test_uninstall_leaves_no_trace(env: Environment, demo_wheel: Path):
    before = tree(env.prefix)
    install_wheel(env, demo_wheel, compile_bytecode=True)
    assert list((env.site_packages / "demo").glob("__pycache__/*.pyc"))
    run(env, str(env.python), "-c", "import demo.cli")
    removal = uninstall(env, "Demo")
    assert removal.skipped == []
    assert tree(env.prefix) == before
    assert find_installed(env, "demo") is None


def test_pip_can_uninstall_what_kiln_installed(env: Environment, demo_wheel: Path):
    before = tree(env.prefix)
    install_wheel(env, demo_wheel)
    run(env, *TEST_PIP, "--python", str(env.python), "uninstall", "-y", "demo")
    # pip leaves emptied data directories behind; compare files only.
    files = {path for path, mode in tree(env.prefix).items() if not stat.S_ISDIR(mode)}
    assert files == {path for path, mode in before.items() if not stat.S_ISDIR(mode)}


def test_installing_another_version_replaces_the_first(env: Environment, wheels: Path):
    v1 = make_wheel(wheels, "swap", "1.0", {"swap/__init__.py": "V = 1\n", "swap/old.py": ""})
    v2 = make_wheel(wheels, "swap", "2.0", {"swap/__init__.py": "V = 2\n"})
    install_wheel(env, v1)
    result = install_wheel(env, v2)
    assert result.replaced is not None and result.replaced.version == "1.0"
    assert not (env.site_packages / "swap" / "old.py").exists()
    assert not (env.site_packages / "swap-1.0.dist-info").exists()
    assert [(d.name, d.version) for d in installed_distributions(env)] == [("swap", "2.0")]
    assert run(env, str(env.python), "-c", "import swap; print(swap.V)") == "2\n"


def test_second_install_hardlinks_from_the_cache(
    tmp_path: Path, base: Interpreter, demo_wheel: Path
):
    first = create_venv(tmp_path / "one", base).env
    second = create_venv(tmp_path / "two", base).env
    install_wheel(first, demo_wheel)
    result = install_wheel(second, demo_wheel)
    assert result.linked > 0
    module_one = (first.site_packages / "demo" / "cli.py").stat()
    module_two = (second.site_packages / "demo" / "cli.py").stat()
    assert module_one.st_ino == module_two.st_ino
    # Generated files are never shared with the cache.
    record_one = (first.site_packages / "demo-1.0.dist-info" / "RECORD").stat()
    record_two = (second.site_packages / "demo-1.0.dist-info" / "RECORD").stat()
    assert record_one.st_ino != record_two.st_ino


def test_copy_link_mode_makes_independent_files(env: Environment, demo_wheel: Path, tmp_path):
    install_wheel(env, demo_wheel)
    other = create_venv(tmp_path / "copies", env.interpreter).env
    result = install_wheel(other, demo_wheel, link_mode="copy")
    assert result.linked == 0
    assert (other.site_packages / "demo/cli.py").stat().st_ino != (
        env.site_packages / "demo/cli.py"
    ).stat().st_ino


def test_installing_a_missing_distribution_name_is_an_error(env: Environment):
    with pytest.raises(KilnError, match="`nothing` is not installed"):
        uninstall(env, "nothing")


def test_scripts_in_a_path_with_spaces_use_a_shell_shebang(
    tmp_path: Path, base: Interpreter, demo_wheel: Path
):
    env = create_venv(tmp_path / "with space" / ("long" * 30), base).env
    install_wheel(env, demo_wheel)
    launcher = env.scheme.scripts / "demo-hello"
    assert launcher.read_text().startswith("#!/bin/sh\n")
    assert run(env, str(launcher)) == "hello from demo\n"


def test_unchanged_wheel_is_not_hashed_again(
    env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import kiln.core.install.wheel as wheel_module

    wheel = make_wheel(tmp_path, "memo", "1.0", {"memo/__init__.py": "X = 1\n"})
    install_wheel(env, wheel)
    uninstall(env, "memo")

    def no_hashing(path: Path) -> str:
        raise AssertionError(f"{path} was hashed again although it did not change")

    monkeypatch.setattr(wheel_module, "_file_sha256", no_hashing)
    install_wheel(env, wheel)
    assert run(env, str(env.python), "-c", "import memo; print(memo.X)") == "1\n"


def test_an_unchanged_wheel_is_described_from_memory_not_from_its_metadata(
    env: Environment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import kiln.core.install.wheel as wheel_module

    wheel = make_wheel(tmp_path, "Memo_Two", "1.0", {"memo_two/__init__.py": "X = 2\n"},
                       requires_python=">=3.8")
    first = wheel_module.unpack_wheel(wheel)

    def no_reading(*args: object) -> object:
        raise AssertionError("the unpacked wheel's WHEEL and METADATA were read again")

    monkeypatch.setattr(wheel_module, "_describe", no_reading)
    assert wheel_module.unpacked_already(wheel) == first
    assert first.display_name == "Memo_Two" and first.requires_python == ">=3.8"
    install_wheel(env, wheel)
    assert run(env, str(env.python), "-c", "import memo_two; print(memo_two.X)") == "2\n"


def test_a_remembered_description_whose_tree_is_gone_is_not_used(tmp_path: Path):
    import shutil

    import kiln.core.install.wheel as wheel_module

    wheel = make_wheel(tmp_path, "gone", "1.0", {"gone/__init__.py": "X = 3\n"})
    first = wheel_module.unpack_wheel(wheel)
    shutil.rmtree(first.root)
    assert wheel_module.unpacked_already(wheel) is None
    again = wheel_module.unpack_wheel(wheel)  # unpacked anew
    assert again == first and (again.root / "gone" / "__init__.py").is_file()


def test_rewritten_wheel_is_hashed_and_installed_anew(env: Environment, tmp_path: Path):
    for folder in ("a", "b", "wheels"):
        (tmp_path / folder).mkdir()
    first = make_wheel(tmp_path / "a", "swap", "1.0", {"swap/__init__.py": "X = 'first'\n"})
    second = make_wheel(tmp_path / "b", "swap", "1.0", {"swap/__init__.py": "X = 'second'\n"})
    target = tmp_path / "wheels" / first.name
    target.write_bytes(first.read_bytes())
    install_wheel(env, target)
    uninstall(env, "swap")
    target.write_bytes(second.read_bytes())  # same path, new content
    install_wheel(env, target)
    assert run(env, str(env.python), "-c", "import swap; print(swap.X)") == "second\n"


@pytest.mark.parametrize("path", ["pkg/mod.py", "pkg/with,comma.py", 'pkg/with"quote.py'])
def test_record_rows_round_trip_through_csv_rules(path: str) -> None:
    import csv
    import io

    from kiln.core.install.record import parse_record, parse_rows, render_rows

    rows = [(path, "sha256=abc", "12"), ("pkg-1.0.dist-info/RECORD", "", "")]
    text = render_rows(rows).decode()
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(sorted(rows))
    assert text == expected.getvalue()
    assert parse_rows(text) == sorted(rows)
    assert [(e.path, e.hash, e.size) for e in parse_record(text)] == sorted(rows)


def test_metadata_headers_read_like_the_email_parser(tmp_path: Path) -> None:
    from email.parser import BytesParser

    from kiln.core.install.installed import read_headers

    text = (
        b"Metadata-Version: 2.1\r\n"
        b"Name: Demo-Pkg\n"
        b"Version:1.0\n"
        b"Summary: a summary: with a colon\n"
        b"Description: first line\n"
        b"        |second line\n"
        b"Requires-Dist: alpha>=1\n"
        b"requires-dist: beta; extra == 'x'\n"
        b"\n"
        b"Body: not a header\n"
    )
    path = tmp_path / "METADATA"
    path.write_bytes(text)
    ours = read_headers(path)
    theirs = BytesParser().parsebytes(text, headersonly=True)
    for name in ("Name", "version", "Summary", "Description", "Body", "Missing"):
        assert ours.get(name) == theirs.get(name), name
    assert ours.get_all("Requires-Dist") == theirs.get_all("Requires-Dist")
    assert [k for k, _v in ours.items()] == list(theirs.keys())
