"""Hostile or broken wheels are refused and failed installs leave nothing half-present."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from packaging.version import Version
from wheelbuilder import make_wheel, tree

from kiln.core.install.environment import Environment
from kiln.core.install.installed import installed_distributions
from kiln.core.install.installer import InstallRequest, install_wheel, install_wheels
from kiln.core.install.plan import Desired, plan_changes
from kiln.errors import KilnError

GOOD = {"good/__init__.py": "OK = True\n"}

pytestmark = pytest.mark.usefixtures("isolated_cache")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"unrecorded": {"../evil.py": "x"}}, "escapes the install location"),
        ({"unrecorded": {"/etc/evil.py": "x"}}, "escapes the install location"),
        ({"unrecorded": {"hostile/../../evil.py": "x"}}, "escapes the install location"),
        ({"symlinks": {"hostile/link": "/etc/passwd"}}, "is a symbolic link"),
        ({"wrong_hash": ("hostile/__init__.py",)}, "does not match its RECORD entry"),
        ({"unrecorded": {"hostile/extra.py": "x"}}, "is not listed in RECORD"),
        ({"unrecorded": {"hostile-1.0.data/weird/x": "x"}}, "known `.data` subdirectory"),
    ],
    ids=["parent", "absolute", "nested-parent", "symlink", "bad-hash", "unlisted", "data-key"],
)
def test_hostile_wheel_is_refused_and_nothing_is_installed(
    env: Environment, tmp_path: Path, options: dict[str, object], message: str
):
    wheel = make_wheel(tmp_path, "hostile", "1.0", {"hostile/__init__.py": ""}, **options)  # type: ignore[arg-type]
    before = tree(env.prefix)
    with pytest.raises(KilnError, match=message):
        install_wheel(env, wheel)
    assert tree(env.prefix) == before
    assert not (tmp_path / "evil.py").exists()


def test_metadata_must_match_the_file_name(env: Environment, tmp_path: Path):
    wheel = make_wheel(tmp_path, "named", "1.0", {})
    wheel = wheel.rename(tmp_path / "other-1.0-py3-none-any.whl")
    with pytest.raises(KilnError, match=re.escape("expected one `.dist-info` directory for `other`")):
        install_wheel(env, wheel)


def test_corrupt_second_wheel_is_caught_before_anything_changes(env: Environment, tmp_path):
    good = make_wheel(tmp_path, "good", "1.0", GOOD)
    bad = make_wheel(tmp_path, "bad", "1.0", {"bad/__init__.py": ""}, wrong_hash=("bad/__init__.py",))
    before = tree(env.prefix)
    with pytest.raises(KilnError, match=re.escape("invalid wheel `bad-1.0-py3-none-any.whl`")):
        install_wheels(env, [InstallRequest(good), InstallRequest(bad)])
    assert tree(env.prefix) == before


def test_failure_midway_keeps_the_first_wheel_and_drops_the_second(env: Environment, tmp_path):
    good = make_wheel(tmp_path, "good", "1.0", GOOD)
    broken = make_wheel(
        tmp_path, "broken", "1.0", {"broken/__init__.py": ""},
        entry_points="[console_scripts]\nbroken = not a reference\n",
    )
    with pytest.raises(KilnError, match="invalid entry point `broken"):
        install_wheels(env, [InstallRequest(good), InstallRequest(broken)])
    assert [d.name for d in installed_distributions(env)] == ["good"]
    assert not (env.site_packages / "broken").exists()
    assert not list(env.site_packages.glob(".kiln-tmp-*"))
    check = subprocess.run([str(env.python), "-c", "import good; assert good.OK"])
    assert check.returncode == 0


def test_failed_upgrade_restores_the_installed_version(env: Environment, tmp_path: Path):
    v1 = make_wheel(tmp_path, "pkg", "1.0", {"pkg/__init__.py": "V = 1\n", "pkg/sub/__init__.py": ""})
    install_wheel(env, v1)
    before = tree(env.prefix)
    # Version 2 puts a file where version 1 has a directory: the move into place fails.
    v2 = make_wheel(tmp_path, "pkg", "2.0", {"pkg/__init__.py": "V = 2\n", "pkg/sub": "file"})
    with pytest.raises(KilnError, match=re.escape("cannot install `pkg-2.0-py3-none-any.whl`")):
        install_wheel(env, v2)
    assert tree(env.prefix) == before
    assert [(d.name, d.version) for d in installed_distributions(env)] == [("pkg", "1.0")]


def test_plan_keeps_installs_replaces_and_removes(env: Environment, tmp_path: Path):
    for name in ("keep", "old", "extra"):
        install_wheel(env, make_wheel(tmp_path, name, "1.0", {f"{name}.py": ""}))
    new_old = make_wheel(tmp_path, "old", "2.0", {"old.py": ""})
    fresh = make_wheel(tmp_path, "fresh", "1.0", {"fresh.py": ""})
    desired = [
        Desired("keep", Version("1.0"), tmp_path / "keep-1.0-py3-none-any.whl"),
        Desired("old", Version("2.0"), new_old),
        Desired("Fresh", Version("1.0"), fresh),
    ]
    installed = installed_distributions(env)
    plan = plan_changes(desired, installed, remove_extraneous=True)
    assert [d.name for d in plan.install] == ["old", "Fresh"]
    assert [d.name for d in plan.replaced] == ["old"]
    assert [d.name for d in plan.keep] == ["keep"]
    assert [d.name for d in plan.uninstall] == ["extra"]
    assert [d.name for d in plan_changes(desired, installed).keep] == ["keep", "extra"]
    forced = plan_changes(desired, installed, reinstall=["KEEP"])
    assert [d.name for d in forced.install] == ["keep", "old", "Fresh"]


def test_plan_reinstalls_when_the_source_changes(env: Environment, tmp_path: Path):
    wheel = make_wheel(tmp_path, "src", "1.0", {"src_mod.py": ""})
    install_wheel(env, wheel)
    editable = {"url": "file:///work/src", "dir_info": {"editable": True}}
    desired = [Desired("src", Version("1.0"), wheel, direct_url=editable)]
    assert [d.name for d in plan_changes(desired, installed_distributions(env)).install] == ["src"]


def test_wheels_of_one_batch_that_share_a_file_install_in_order_the_last_one_winning(
    env: Environment, tmp_path: Path
):
    first = make_wheel(tmp_path, "first", "1.0", {"shared/__init__.py": "WHO = 'first'\n"})
    second = make_wheel(tmp_path, "second", "1.0", {"shared/__init__.py": "WHO = 'second'\n",
                                                    "second_only.py": ""})
    third = make_wheel(tmp_path, "third", "1.0", {"shared/extra.py": "X = 3\n"})
    install_wheels(env, [InstallRequest(first), InstallRequest(second), InstallRequest(third)])
    shared = env.site_packages / "shared"
    assert (shared / "__init__.py").read_text() == "WHO = 'second'\n"
    assert sorted(p.name for p in shared.iterdir() if p.suffix == ".py") == [
        "__init__.py", "extra.py"]
    assert [d.name for d in installed_distributions(env)] == ["first", "second", "third"]
    assert not list(env.site_packages.glob(".kiln-tmp-*"))
