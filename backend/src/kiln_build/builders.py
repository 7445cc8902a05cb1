"""The builders: sdist, wheel, editable wheel and metadata directory.

Each is written once against :class:`~kiln_build.archives.ArchiveWriter`, so the
same code lists what would be packaged (``ListWriter``) or writes it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from kiln_build import __version__
from kiln_build._record import record
from kiln_build.archives import (
    ArchiveWriter,
    ListWriter,
    TarGzWriter,
    WheelWriter,
    sdist_mtime,
    wheel_date_time,
    write_atomically,
)
from kiln_build.build_system import check_build_system
from kiln_build.errors import BuildBackendError
from kiln_build.metadata import CoreMetadata, build_metadata
from kiln_build.modules import Layout, find_layout
from kiln_build.pyproject import PYPROJECT, Project, load_project
from kiln_build.selection import (
    data_members,
    license_members,
    module_members,
    sdist_members,
    wheel_excludes,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import IO

TAG = "py3-none-any"


@record
class Context:
    project: Project
    layout: Layout
    meta: CoreMetadata


def load(root: Path, *, for_sdist: bool = False) -> Context:
    project = load_project(root)
    check_build_system(project.data, __version__, for_sdist=for_sdist)
    name = project.table.get("name")
    if not isinstance(name, str) or not name:
        raise BuildBackendError(
            "`pyproject.toml`: `project.name` is missing",
            hint='add `name = "your-project"` to `[project]`',
        )
    _check_name(name)
    layout = find_layout(project.tree, name, project.settings)
    meta = build_metadata(project, layout)
    return Context(project, layout, meta)


def _check_name(name: str) -> None:
    import re

    if not re.match(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", name, re.IGNORECASE):
        raise BuildBackendError(
            f"`pyproject.toml`: `project.name` is not a valid project name: `{name}`",
            hint="names start and end with a letter or digit and contain only letters, digits, `-`, `_` and `.`",
        )


# -- sdist -------------------------------------------------------------------------------------


def sdist_filename(ctx: Context) -> str:
    return f"{ctx.meta.stem}.tar.gz"


def write_sdist(ctx: Context, writer: ArchiveWriter) -> None:
    top = ctx.meta.stem
    members = sdist_members(ctx.project, ctx.layout, ctx.meta)
    # As uv_build does: the generated files first, then the top directory entry.
    writer.defer_dir(top)
    writer.add_bytes(f"{top}/PKG-INFO", ctx.meta.metadata)
    writer.add_bytes(f"{top}/{PYPROJECT}", ctx.project.raw)
    writer.add_dir(top)
    for member in members:
        writer.add_path(f"{top}/{member.arcname}", member.source, member.executable)


def build_sdist(root: Path, out_dir: Path) -> str:
    mtime = sdist_mtime()
    ctx = load(root, for_sdist=True)
    filename = sdist_filename(ctx)

    def produce(handle: IO[bytes]) -> None:
        writer = TarGzWriter(handle, mtime)
        write_sdist(ctx, writer)
        writer.close()

    write_atomically(out_dir, filename, produce)
    return filename


# -- wheel -------------------------------------------------------------------------------------


def wheel_filename(ctx: Context) -> str:
    return f"{ctx.meta.stem}-{TAG}.whl"


def _wheel_file() -> bytes:
    return (
        "Wheel-Version: 1.0\n"
        f"Generator: kiln_build {__version__}\n"
        "Root-Is-Purelib: true\n"
        f"Tag: {TAG}\n"
    ).encode()


def dist_info_files(ctx: Context) -> list[tuple[str, bytes]]:
    files = [("WHEEL", _wheel_file())]
    if ctx.meta.entry_points is not None:
        files.append(("entry_points.txt", ctx.meta.entry_points))
    files.append(("METADATA", ctx.meta.metadata))
    return files


def _check_prepared(ctx: Context, metadata_directory: str | None) -> None:
    """PEP 517: the wheel must carry the metadata ``prepare_metadata_*`` returned."""
    if not metadata_directory:
        return
    prepared = Path(metadata_directory)
    for name, content in dist_info_files(ctx):
        if name == "WHEEL":
            continue
        try:
            existing = (prepared / name).read_bytes()
        except FileNotFoundError:
            existing = None
        if existing != content:
            raise BuildBackendError(
                f"the metadata changed between `prepare_metadata_for_build_wheel` and the build: `{name}`",
                hint="pyproject.toml or the module was edited during the build; run the build again",
            )


def write_dist_info(ctx: Context, writer: ArchiveWriter) -> None:
    dist_info = f"{ctx.meta.stem}.dist-info"
    writer.add_dir(dist_info)
    for name, content in dist_info_files(ctx):
        writer.add_bytes(f"{dist_info}/{name}", content)
    if isinstance(writer, WheelWriter):
        writer.write_record(f"{dist_info}/RECORD")
    else:
        writer.add_bytes(f"{dist_info}/RECORD", b"")


def _defer_wheel_dirs(ctx: Context, writer: ArchiveWriter) -> None:
    """Match uv_build's order: `.dist-info/` comes just before its generated files, and
    `.data/` gets no entry of its own (only `.data/<category>/`)."""
    writer.defer_dir(f"{ctx.meta.stem}.dist-info")
    writer.defer_dir(f"{ctx.meta.stem}.data")


def write_wheel(ctx: Context, writer: ArchiveWriter) -> None:
    excludes = wheel_excludes(ctx.project)
    for member in module_members(ctx.project, ctx.layout, excludes):
        writer.add_path(member.arcname, member.source, member.executable)
    _defer_wheel_dirs(ctx, writer)
    for member in license_members(ctx.project, ctx.meta):
        writer.add_path(member.arcname, member.source, member.executable)
    for member in data_members(ctx.project, ctx.meta, excludes):
        writer.add_path(member.arcname, member.source, member.executable)
    write_dist_info(ctx, writer)


def _build_zip(out_dir: Path, filename: str, body: Callable[[WheelWriter], None]) -> None:
    date_time = wheel_date_time()

    def produce(handle: IO[bytes]) -> None:
        writer = WheelWriter(handle, date_time)
        body(writer)
        writer.close()

    write_atomically(out_dir, filename, produce)


def _build_any_wheel(
    root: Path,
    out_dir: Path,
    metadata_directory: str | None,
    write: Callable[[Context, ArchiveWriter], None],
) -> str:
    wheel_date_time()  # a bad SOURCE_DATE_EPOCH fails before anything is read
    ctx = load(root)
    _check_prepared(ctx, metadata_directory)
    filename = wheel_filename(ctx)
    _build_zip(out_dir, filename, lambda writer: write(ctx, writer))
    return filename


def build_wheel(root: Path, out_dir: Path, metadata_directory: str | None = None) -> str:
    return _build_any_wheel(root, out_dir, metadata_directory, write_wheel)


# -- editable ----------------------------------------------------------------------------------


def write_editable(ctx: Context, writer: ArchiveWriter) -> None:
    # Validate what a wheel build would, without copying modules.
    for module in ctx.layout.modules:
        if not (ctx.project.root / ctx.layout.module_rel(module)).exists():
            raise BuildBackendError(
                f"the module `{'.'.join(module.parts)}` does not exist at `{ctx.layout.module_rel(module)}`"
            )
    excludes = wheel_excludes(ctx.project)
    pth = str(ctx.layout.root.absolute())
    if not ctx.layout.root_rel:
        pth = pth.rstrip(os.sep) + os.sep  # flat layout: the project directory itself
    writer.add_bytes(f"{ctx.meta.dist_name}.pth", os.fsencode(pth))
    _defer_wheel_dirs(ctx, writer)
    for member in license_members(ctx.project, ctx.meta):
        writer.add_path(member.arcname, member.source, member.executable)
    for member in data_members(ctx.project, ctx.meta, excludes):
        writer.add_path(member.arcname, member.source, member.executable)
    write_dist_info(ctx, writer)


def build_editable(root: Path, out_dir: Path, metadata_directory: str | None = None) -> str:
    return _build_any_wheel(root, out_dir, metadata_directory, write_editable)


# -- metadata directory ------------------------------------------------------------------------


def prepare_metadata(root: Path, out_dir: Path) -> str:
    import shutil

    from kiln_build.archives import record_hash

    ctx = load(root)
    name = f"{ctx.meta.stem}.dist-info"
    target = out_dir / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    rows = []
    for filename, content in dist_info_files(ctx):
        (target / filename).write_bytes(content)
        rows.append(f"{name}/{filename},{record_hash(content)},{len(content)}\n")
    rows.append(f"{name}/RECORD,,\n")
    (target / "RECORD").write_text("".join(rows))
    return name


# -- listing -----------------------------------------------------------------------------------


def list_files(root: Path) -> tuple[list[str], list[str]]:
    """The member names the sdist and the wheel would have, without writing anything."""
    ctx = load(root)
    sdist = ListWriter()
    write_sdist(ctx, sdist)
    wheel = ListWriter()
    write_wheel(ctx, wheel)
    return sdist.files, wheel.files
