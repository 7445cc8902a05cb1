"""Hostile input to the build backend (issue #17): what it proves.

A project or an sdist controlled by someone else can make `kiln_build` neither delete,
read nor package anything outside the project, nor write an archive that other tools
cannot read, nor crash with a traceback. Each finding of the audit is exercised through
the real entry points: `kiln build <dir>`, `kiln build <sdist>`,
`kiln pip install ./<sdist>` (the CLI in a subprocess) and the PEP 517 hooks called as a
frontend calls them, on real files, links and archives made here. Every failure must be
exit status 1 with a one-line `error:` naming the input (file, key or link) and no
`Traceback`, and must leave no artifact behind.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_helpers import kiln_hook
from pip_helpers import KILN_BUILD_SYSTEM, base_env, kiln, make_venv

# -- helpers -----------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = base_env(tmp_path / "cache")
    environ.pop("SOURCE_DATE_EPOCH", None)
    return environ


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    return make_venv(root / "venv", base_env(root / "cache"))


def pyproject(name: str = "demo", project: str = "", tool: str = "") -> str:
    return (
        f'[project]\nname = "{name}"\nversion = "1.0"\n{project}\n\n{KILN_BUILD_SYSTEM}\n'
        + (f"[tool.kiln.build-backend]\n{tool}\n" if tool else "")
    )


def make_project(root: Path, project: str = "", tool: str = "", name: str = "demo") -> Path:
    (root / "src" / "demo").mkdir(parents=True)
    (root / "src" / "demo" / "__init__.py").write_text("VALUE = 1\n")
    (root / "pyproject.toml").write_text(pyproject(name, project, tool))
    return root


def make_sdist(path: Path, files: dict[str, bytes], *, top: str | None = "demo-1.0") -> Path:
    """A .tar.gz written member by member, so the members can be anything."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{top}/{name}" if top else name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return path


def sdist_of(path: Path, pyproject_text: str, extra: dict[str, bytes] | None = None) -> Path:
    files = {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        "pyproject.toml": pyproject_text.encode(),
        "src/demo/__init__.py": b"VALUE = 1\n",
    }
    files.update(extra or {})
    return make_sdist(path, files)


def failed(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The CLI failed cleanly: exit 1, no traceback, every ``expected`` in its error."""
    assert result.returncode == 1, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert "error:" in result.stderr, result.stderr
    for text in expected:
        assert text in result.stderr, f"{text!r} not in\n{result.stderr}"
    return result.stderr


def hook_fails(project: Path, hook: str, out: Path, *expected: str) -> str:
    """A PEP 517 hook raised a one-line BuildBackendError naming everything ``expected``."""
    from kiln_build.errors import BuildBackendError

    with pytest.raises(BuildBackendError) as caught:
        kiln_hook(project, hook, str(out))
    message = str(caught.value)
    assert len(message.splitlines()) <= 2, message  # the error and an optional hint
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    return message


def archive_bytes(directory: Path) -> list[bytes]:
    """Every member of every archive in ``directory``, for looking for leaked content."""
    contents = []
    for path in directory.glob("*.tar.gz"):
        with tarfile.open(path) as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member)
                if handle is not None:
                    contents.append(handle.read())
    for path in directory.glob("*.whl"):
        with zipfile.ZipFile(path) as zf:
            contents.extend(zf.read(name) for name in zf.namelist())
    return contents


SECRET = b"the secret outside the project\n"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    (tmp_path / "outside" / "pkg").mkdir()
    (tmp_path / "outside" / "pkg" / "stolen.py").write_bytes(SECRET)
    return path


# -- 1. a failed build deletes nothing it did not create ----------------------------------------


@pytest.fixture
def victim() -> Iterator[Path]:
    """A directory whose path a project name can spell exactly: no `-`, `_` or `.`
    (name normalisation would change those), all lower case."""
    import tempfile

    base = Path(tempfile.gettempdir())
    directory = base / f"kilnvictim{os.getpid()}{time.monotonic_ns()}"
    if not str(directory).islower() or any(c in str(directory) for c in "-_."):
        pytest.skip(f"the temporary directory `{base}` cannot be spelled as a project name")
    directory.mkdir()
    for name in ("important-1.0.tar.gz", "important-1.0-py3-none-any.whl"):
        (directory / name).write_bytes(b"precious")
    yield directory
    for path in directory.iterdir():
        path.unlink()
    directory.rmdir()


def assert_untouched(victim: Path) -> None:
    assert sorted(p.name for p in victim.iterdir()) == [
        "important-1.0-py3-none-any.whl",
        "important-1.0.tar.gz",
    ]
    assert all(p.read_bytes() == b"precious" for p in victim.iterdir())


def test_a_project_name_that_is_a_path_deletes_nothing(
    tmp_path: Path, victim: Path, env: dict[str, str]
) -> None:
    project = make_project(tmp_path / "evil", name=str(victim / "important"))
    failed(kiln("build", project, env=env), "not a valid project name")
    assert_untouched(victim)
    out = tmp_path / "out"
    for hook in ("build_sdist", "build_wheel", "build_editable"):
        hook_fails(project, hook, out, "project.name")
    assert_untouched(victim)


def test_an_sdist_whose_name_is_a_path_deletes_nothing(
    tmp_path: Path, victim: Path, env: dict[str, str], venv: Path
) -> None:
    sdist = sdist_of(tmp_path / "evil-1.0.tar.gz", pyproject(str(victim / "important")))
    failed(kiln("build", sdist, env=env), "not a valid project name")
    assert_untouched(victim)
    failed(
        kiln("pip", "install", "--python", venv, "--offline", "./evil-1.0.tar.gz",
             env=env, cwd=tmp_path),
        "not a valid project name",
    )
    assert_untouched(victim)


# -- 2. nothing outside the project is read or packaged ------------------------------------------

OUTSIDE_KEYS = {
    "readme-absolute": (
        'readme = { file = "{secret}", content-type = "text/plain" }', "", "project.readme.file"
    ),
    "readme-parent": (
        'readme = { file = "../outside/secret.txt", content-type = "text/plain" }',
        "",
        "project.readme.file",
    ),
    "readme-string-parent": ('readme = "../outside/secret.md"', "", "project.readme"),
    "license-file-absolute": ('license = { file = "{secret}" }', "", "project.license.file"),
    "license-file-etc": ('license = { file = "/etc/hostname" }', "", "project.license.file"),
    "license-files-absolute": ('license-files = ["{outside}/*.txt"]', "", "project.license-files"),
    "module-name-absolute": ("", 'module-name = "{outside}/pkg"', "module-name"),
    "namespace-absolute": ("", 'namespace = true\nmodule-name = "{outside}/pkg"', "module-name"),
    "module-root-absolute": ("", 'module-root = "{outside}"', "module-root"),
    "data-absolute": ("", '[tool.kiln.build-backend.data]\ndata = "{outside}"', "data.data"),
}


def _outside_pyproject(case: str, secret: Path) -> tuple[str, str, str]:
    project, tool, key = OUTSIDE_KEYS[case]
    values = {"secret": str(secret), "outside": str(secret.parent)}
    fill = lambda text: text.replace("{secret}", values["secret"]).replace(  # noqa: E731
        "{outside}", values["outside"]
    )
    tool = fill(tool)
    if tool.startswith("[tool.kiln.build-backend.data]"):
        return fill(project), "", key  # a whole table: appended below
    return fill(project), tool, key


@pytest.mark.parametrize("case", sorted(OUTSIDE_KEYS))
def test_paths_outside_the_project_are_refused_naming_the_key(
    case: str, tmp_path: Path, secret: Path, env: dict[str, str]
) -> None:
    (secret.parent / "secret.md").write_bytes(SECRET)
    project_part, tool, key = _outside_pyproject(case, secret)
    root = make_project(tmp_path / "proj", project_part, tool)
    if case == "data-absolute":
        with (root / "pyproject.toml").open("a") as handle:
            handle.write(f'\n[tool.kiln.build-backend.data]\ndata = "{secret.parent}"\n')
    failed(kiln("build", root, env=env), key)
    assert not (root / "dist").exists()
    for hook in ("build_sdist", "build_wheel"):
        hook_fails(root, hook, tmp_path / "out", key)
    assert not (tmp_path / "out").exists() or SECRET not in archive_bytes(tmp_path / "out")


@pytest.mark.parametrize(
    "case", ["readme-absolute", "license-file-absolute", "namespace-absolute", "readme-parent"]
)
def test_an_untrusted_sdist_cannot_name_files_outside_itself(
    case: str, tmp_path: Path, secret: Path, env: dict[str, str], venv: Path
) -> None:
    project_part, tool, key = _outside_pyproject(case, secret)
    sdist = sdist_of(tmp_path / "evil-1.0.tar.gz", pyproject("demo", project_part, tool))
    failed(kiln("build", sdist, env=env), key)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".whl") == []
    failed(
        kiln("pip", "install", "--python", venv, "--offline", "./evil-1.0.tar.gz",
             env=env, cwd=tmp_path),
        key,
    )


def test_a_license_glob_through_a_link_to_the_root_does_not_walk_the_file_system(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "proj", 'license-files = ["rootfs/**/hostname"]')
    (root / "rootfs").symlink_to("/")
    started = time.monotonic()
    failed(kiln("build", root, env=env), "`rootfs` is a symbolic link to `/`", "outside the project")
    assert time.monotonic() - started < 60


# -- 3. symbolic links -------------------------------------------------------------------------


def _link_case(case: str, root: Path, secret: Path) -> str:
    """Make the link of ``case`` in project ``root``; return its project-relative name."""
    if case == "module-file":
        (root / "src/demo/leak.py").symlink_to(secret)
        return "src/demo/leak.py"
    if case == "module-dir":
        (root / "src/demo/linked").symlink_to(secret.parent)
        return "src/demo/linked"
    if case == "license":
        (root / "LICENSE").symlink_to(secret)
        return "LICENSE"
    if case == "readme":
        (root / "README.md").symlink_to(secret)
        return "README.md"
    if case == "in-data-dir":
        (root / "share").mkdir()
        (root / "share/leak.txt").symlink_to(secret)
        return "share/leak.txt"
    if case == "data-dir":
        (root / "share").symlink_to(secret.parent)
        return "share"
    if case == "gitignore":
        (root / ".gitignore").symlink_to(secret)
        return ".gitignore"
    if case == "module-root":
        (root / "lib").symlink_to(secret.parent)
        return "lib"
    if case == "pyproject":
        (secret.parent / "pyproject.toml").write_text(pyproject())
        (root / "pyproject.toml").unlink()
        (root / "pyproject.toml").symlink_to(secret.parent / "pyproject.toml")
        return "pyproject.toml"
    assert case == "root-of-file-system"
    (root / "src/demo/rootfs").symlink_to("/")
    return "src/demo/rootfs"


LINK_CASES = {
    "module-file": ("", ""),
    "module-dir": ("", ""),
    "license": ("", ""),
    "readme": ('readme = "README.md"', ""),
    "in-data-dir": ("", "data"),
    "data-dir": ("", "data"),
    "module-root": ("", 'module-root = "lib"\nmodule-name = "pkg"'),
    "gitignore": ("", ""),
    "pyproject": ("", ""),
    "root-of-file-system": ("", ""),
}


@pytest.mark.parametrize("kind", ["sdist-then-wheel", "--wheel", "--sdist"])
@pytest.mark.parametrize("case", sorted(LINK_CASES))
def test_links_leaving_the_project_are_refused_naming_the_link(
    case: str, kind: str, tmp_path: Path, secret: Path, env: dict[str, str]
) -> None:
    project_part, tool = LINK_CASES[case]
    root = make_project(tmp_path / "proj", project_part, "" if tool == "data" else tool)
    if tool == "data":
        with (root / "pyproject.toml").open("a") as handle:
            handle.write('\n[tool.kiln.build-backend.data]\ndata = "share"\n')
    link = _link_case(case, root, secret)
    args = [] if kind == "sdist-then-wheel" else [kind]
    started = time.monotonic()
    failed(kiln("build", *args, root, env=env), f"`{link}` is a symbolic link to", "outside the project")
    assert time.monotonic() - started < 60, "the build walked outside the project"
    assert not (root / "dist").exists()


def test_a_source_include_reaching_through_a_link_is_refused(
    tmp_path: Path, secret: Path, env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "proj", "", 'source-include = ["extra/**"]')
    (root / "extra").symlink_to(secret.parent)
    failed(kiln("build", "--sdist", root, env=env), "`extra` is a symbolic link to")
    failed(kiln("build", "--list", root, env=env), "`extra` is a symbolic link to")
    assert not (root / "dist").exists()


def test_links_inside_the_project_are_packaged_as_regular_files(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "proj", 'readme = "README.md"')
    (root / "docs").mkdir()
    (root / "docs/README.md").write_text("# demo\n")
    (root / "README.md").symlink_to("docs/README.md")
    (root / "src/demo/real.py").write_text("REAL = 1\n")
    (root / "src/demo/alias.py").symlink_to("real.py")
    (root / "src/demo/sub").mkdir()
    (root / "src/demo/sub/mod.py").write_text("SUB = 1\n")
    (root / "src/demo/linked").symlink_to("sub")
    (root / "src/demo/sub/up").symlink_to("..")  # a cycle: walked once, never forever
    result = kiln("build", root, env=env)
    assert result.returncode == 0, result.stderr
    with tarfile.open(root / "dist/demo-1.0.tar.gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        alias = members["demo-1.0/src/demo/alias.py"]
        assert alias.isfile()
        assert tar.extractfile(alias).read() == b"REAL = 1\n"  # type: ignore[union-attr]
        assert members["demo-1.0/README.md"].isfile()
        assert members["demo-1.0/src/demo/linked/mod.py"].isfile()
        assert members["demo-1.0/src/demo/sub/mod.py"].isfile()
        assert not any(m.issym() or m.islnk() for m in members.values())
    with zipfile.ZipFile(root / "dist/demo-1.0-py3-none-any.whl") as zf:
        assert zf.read("demo/alias.py") == b"REAL = 1\n"
        assert zf.read("demo/linked/mod.py") == zf.read("demo/sub/mod.py") == b"SUB = 1\n"
        assert not [n for n in zf.namelist() if "/up/" in n]


@pytest.mark.parametrize("case", ["broken", "loop"])
def test_broken_links_and_link_loops_are_errors_naming_the_link(
    case: str, tmp_path: Path, env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "proj")
    if case == "broken":
        (root / "src/demo/gone.py").symlink_to("missing.py")
        expected = "`src/demo/gone.py` is a broken symbolic link to `missing.py`"
    else:
        (root / "src/demo/a.py").symlink_to("b.py")
        (root / "src/demo/b.py").symlink_to("a.py")
        expected = "`src/demo/a.py` is a symbolic link loop"
    failed(kiln("build", root, env=env), expected)
    hook_fails(root, "build_wheel", tmp_path / "out", expected)


# -- 4. SOURCE_DATE_EPOCH ----------------------------------------------------------------------


def test_a_source_date_epoch_past_2242_gives_an_sdist_tar_can_read(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "proj")
    epoch = 8589934592  # one more than the 11 octal digits of a tar header hold
    result = kiln("build", "--sdist", root, env={**env, "SOURCE_DATE_EPOCH": str(epoch)})
    assert result.returncode == 0, result.stderr
    sdist = root / "dist/demo-1.0.tar.gz"
    with tarfile.open(sdist) as tar:
        members = tar.getmembers()
        assert [m.name for m in members if m.isfile()] == [
            "demo-1.0/PKG-INFO",
            "demo-1.0/pyproject.toml",
            "demo-1.0/src/demo/__init__.py",
        ]
        assert {m.mtime for m in members} == {epoch}
        tar.extractall(tmp_path / "unpacked", filter="data")
    listing = subprocess.run(
        ["tar", "-tvzf", str(sdist)], capture_output=True, text=True, timeout=60
    )
    assert listing.returncode == 0, listing.stderr
    assert "2242-03-16" in listing.stdout
    assert listing.stdout.count("demo-1.0/") == 6


def test_a_source_date_epoch_after_2107_is_a_clear_error_for_wheels(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "proj")
    late = {**env, "SOURCE_DATE_EPOCH": "4354819200"}  # 2108-01-01
    failed(kiln("build", "--wheel", root, env=late), "SOURCE_DATE_EPOCH", "2107-12-31")
    failed(kiln("build", root, env=late), "SOURCE_DATE_EPOCH")
    assert not (root / "dist").exists()
    last = {**env, "SOURCE_DATE_EPOCH": "4354819198"}  # the last second a zip can hold
    result = kiln("build", "--wheel", root, env=last)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(root / "dist/demo-1.0-py3-none-any.whl") as zf:
        assert {info.date_time for info in zf.infolist()} == {(2107, 12, 31, 23, 59, 58)}


@pytest.mark.parametrize("value", ["-5", "1.5", "1_000", " 12", "soon", "99999999999999999999"])
def test_a_malformed_source_date_epoch_is_a_clear_error(
    value: str, tmp_path: Path, env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "proj")
    for kind in ("--sdist", "--wheel"):
        failed(
            kiln("build", kind, root, env={**env, "SOURCE_DATE_EPOCH": value}),
            "SOURCE_DATE_EPOCH",
            value.strip(),
        )
    assert not (root / "dist").exists()


# -- 5. one-line errors naming the input -------------------------------------------------------


def test_a_pyproject_that_is_not_utf8_is_a_one_line_error(
    tmp_path: Path, env: dict[str, str]
) -> None:
    root = make_project(tmp_path / "proj", 'description = "caf\xe9"')
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_bytes(text.encode("latin-1"))
    failed(kiln("build", root, env=env), "pyproject.toml", "UTF-8", "line 4")
    hook_fails(root, "build_sdist", tmp_path / "out", "pyproject.toml", "UTF-8", "line 4")
    sdist = sdist_of(tmp_path / "latin-1.0.tar.gz", "", {"pyproject.toml": text.encode("latin-1")})
    failed(kiln("build", sdist, env=env), "pyproject.toml", "UTF-8")


def test_a_truncated_sdist_is_a_one_line_error(
    tmp_path: Path, env: dict[str, str], venv: Path
) -> None:
    whole = sdist_of(tmp_path / "whole.tar.gz", pyproject(), {"data.bin": os.urandom(20000)})
    cut = tmp_path / "demo-1.0.tar.gz"
    cut.write_bytes(whole.read_bytes()[:8000])
    failed(kiln("build", cut, env=env), "demo-1.0.tar.gz", "truncated")
    failed(
        kiln("pip", "install", "--python", venv, "--offline", "./demo-1.0.tar.gz",
             env=env, cwd=tmp_path),
        "demo-1.0.tar.gz",
        "truncated",
    )


@pytest.mark.parametrize("member", ["/etc/x", "../../x"])
def test_an_sdist_member_that_escapes_says_so(
    member: str, tmp_path: Path, env: dict[str, str], venv: Path
) -> None:
    files = {
        "demo-1.0/pyproject.toml": pyproject().encode(),
        "demo-1.0/src/demo/__init__.py": b"",
        member: b"planted",
    }
    sdist = make_sdist(tmp_path / "demo-1.0.tar.gz", files, top=None)
    problem = "is an absolute path" if member.startswith("/") else "leads out of the archive"
    failed(kiln("build", sdist, env=env), f"the sdist member `{member}` {problem}")
    failed(
        kiln("pip", "install", "--python", venv, "--offline", "./demo-1.0.tar.gz",
             env=env, cwd=tmp_path),
        f"the sdist member `{member}` {problem}",
    )


def test_a_file_name_that_is_not_utf8_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    root = make_project(tmp_path / "proj")
    try:
        (root / "src" / "demo" / os.fsdecode(b"caf\xe9.py")).write_text("")
    except (OSError, UnicodeError):  # pragma: no cover - a file system that refuses it
        pytest.skip("the file system refuses names that are not UTF-8")
    expected = "`src/demo/caf\\xe9.py`: the file name is not valid UTF-8"
    failed(kiln("build", root, env=env), expected)
    hook_fails(root, "build_wheel", tmp_path / "out", expected)


def test_a_file_name_too_long_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    root = make_project(tmp_path / "proj", f'readme = "{"r" * 300}.md"')
    failed(kiln("build", root, env=env), "rrrr", "the file name is too long")
    hook_fails(root, "prepare_metadata_for_build_wheel", tmp_path / "out", "too long")


def test_an_absolute_module_path_says_it_is_absolute(tmp_path: Path, env: dict[str, str]) -> None:
    root = make_project(tmp_path / "proj", "", 'module-root = "//////outside"')
    failed(kiln("build", root, env=env), "module-root", "is an absolute path outside the project")
    other = make_project(tmp_path / "other", "", 'namespace = true\nmodule-name = "//////outside"')
    failed(kiln("build", other, env=env), "module-name", "not a path: `//////outside`")


METADATA_CASES = {
    "entry-point-value": ('[project.scripts]\nx = "not valid::"', "project.scripts.x"),
    "entry-point-extras": ('[project.scripts]\nx = "demo:main [extra]"', "extras"),
    "entry-point-name": ('[project.entry-points.grp]\n"a=b" = "demo:main"', "`a=b`"),
    "readme-type": (
        'readme = { text = "hi", content-type = "text/foo" }',
        "project.readme.content-type",
    ),
    "readme-charset": (
        'readme = { text = "hi", content-type = "text/markdown; charset=latin-1" }',
        "charset=latin-1",
    ),
    "author-email": (
        'authors = [{ name = "A", email = "not an email" }]',
        "project.authors[0].email",
    ),
    "maintainer-email-injection": (
        'maintainers = [{ name = "A", email = "a@example.com>, evil@example.com" }]',
        "project.maintainers[0].email",
    ),
}


@pytest.mark.parametrize("case", sorted(METADATA_CASES))
def test_invalid_metadata_is_refused_naming_the_key(
    case: str, tmp_path: Path, env: dict[str, str]
) -> None:
    project_part, expected = METADATA_CASES[case]
    # Tables must come after the plain keys of [project]; put the snippet last.
    root = make_project(tmp_path / "proj")
    text = (root / "pyproject.toml").read_text()
    head, sep, tail = text.partition("\n\n[build-system]")
    (root / "pyproject.toml").write_text(f"{head}\n{project_part}\n{sep}{tail}")
    failed(kiln("build", root, env=env), "pyproject.toml", expected)
    for hook in ("build_sdist", "build_wheel", "prepare_metadata_for_build_wheel"):
        hook_fails(root, hook, tmp_path / "out", expected)


def test_a_pkg_info_in_the_tree_never_replaces_the_generated_one(
    tmp_path: Path, env: dict[str, str]
) -> None:
    """An unpacked sdist being rebuilt carries its own PKG-INFO (here a hostile one with
    Metadata-Version 99); the new sdist holds exactly one PKG-INFO, the generated one."""
    root = make_project(tmp_path / "proj", "", 'source-include = ["*"]')
    (root / "PKG-INFO").write_text("Metadata-Version: 99\nName: demo\nVersion: 1.0\n")
    result = kiln("build", root, env=env)
    assert result.returncode == 0, result.stderr
    with tarfile.open(root / "dist/demo-1.0.tar.gz") as tar:
        names = [m.name for m in tar.getmembers()]
        assert names.count("demo-1.0/PKG-INFO") == 1
        pkg_info = tar.extractfile("demo-1.0/PKG-INFO").read()  # type: ignore[union-attr]
    assert pkg_info.startswith(b"Metadata-Version: 2.")
    with zipfile.ZipFile(root / "dist/demo-1.0-py3-none-any.whl") as zf:
        assert zf.read("demo-1.0.dist-info/METADATA").startswith(b"Metadata-Version: 2.")


def test_a_hostile_pkg_info_in_an_sdist_does_not_reach_the_wheel(
    tmp_path: Path, env: dict[str, str]
) -> None:
    sdist = sdist_of(
        tmp_path / "demo-1.0.tar.gz",
        pyproject(),
        {"PKG-INFO": b"Metadata-Version: 99\nName: demo\nVersion: 1.0\n"},
    )
    result = kiln("build", sdist, "--out-dir", tmp_path / "out", env=env)
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out/demo-1.0-py3-none-any.whl") as zf:
        assert zf.read("demo-1.0.dist-info/METADATA").startswith(b"Metadata-Version: 2.")


def test_the_backend_import_stays_light() -> None:
    """The hooks module imports nothing but itself: every frontend imports it first."""
    code = "import sys, kiln_build; print(sorted(m for m in sys.modules if m.startswith('kiln_build')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['kiln_build']"

