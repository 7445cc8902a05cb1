"""Finding the module root and the importable modules to package."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path

from kiln_build._record import record
from kiln_build.errors import BuildBackendError
from kiln_build.paths import Root, relative
from kiln_build.settings import BackendSettings


@record
class Module:
    """One top-level (or dotted namespace) module, relative to the module root."""

    #: Path segments below the module root, e.g. ("foo",) or ("ns", "part").
    parts: tuple[str, ...]
    #: True for a single-file module (``foo.py``) rather than a package directory.
    single_file: bool = False

    @property
    def rel(self) -> str:
        """Path relative to the module root (``foo``, ``ns/part`` or ``foo.py``)."""
        path = "/".join(self.parts)
        return path + ".py" if self.single_file else path


@record
class Layout:
    #: The module root relative to the project, ``""`` for a flat layout.
    root_rel: str
    root: Path
    modules: tuple[Module, ...]

    def module_rel(self, module: Module) -> str:
        """A module's path relative to the project root."""
        return posixpath.join(self.root_rel, module.rel) if self.root_rel else module.rel


def canonical_name(name: str) -> str:
    """PEP 503 normalisation (as ``packaging.utils.canonicalize_name``, without its import cost)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def dist_name(name: str) -> str:
    """The file-name form of a project name (PEP 503 normalised, ``-`` → ``_``)."""
    return canonical_name(name).replace("-", "_")


def prune_module_names(names: Sequence[str]) -> list[str]:
    """Sort, de-duplicate, and drop names that are submodules of another listed name."""
    kept: list[str] = []
    for name in sorted(set(names)):
        if any(name.startswith(k + ".") for k in kept):
            continue
        kept.append(name)
    return kept


def _check_module_name(name: str, key: str) -> tuple[str, ...]:
    """The path segments of a dotted module name, each checked to be a Python identifier."""
    if "/" in name or "\\" in name:
        raise BuildBackendError(
            f"`pyproject.toml`: `{key}` must be a dotted module name such as `pkg.sub`, "
            f"not a path: `{name}`",
            hint="set `module-root` to the directory that holds the module",
        )
    parts = tuple(name.split("."))
    first = parts[0]
    _check_identifier(first[: -len("-stubs")] if first.endswith("-stubs") else first, name, key)
    for segment in parts[1:]:
        _check_identifier(segment, name, key)
    return parts


def _check_identifier(segment: str, full: str, key: str) -> None:
    if not segment.isidentifier():
        raise BuildBackendError(
            f"`pyproject.toml`: `{key}` has an invalid module name `{full}`: "
            f"`{segment}` is not a Python identifier",
            hint="module names use letters, digits and underscores, and do not start with a digit",
        )


def _missing(
    layout_root: Path, project_root: Path, rel: str, key: str, derived: bool
) -> BuildBackendError:
    shown = _display(layout_root / rel, project_root)
    hint = (
        f"set `{key}` to the import name of your package if it differs from the project name"
        if derived
        else "check the spelling and the `module-root` setting"
    )
    return BuildBackendError(f"expected a Python module at `{shown}`", hint=hint)


def _display(path: Path, project_root: Path) -> str:
    try:
        return path.relative_to(project_root).as_posix()
    except ValueError:
        return str(path)


def _find_one(
    root: Path, tree: Root, root_rel: str, name: str, settings: BackendSettings, derived: bool
) -> Module:
    project_root = tree.path
    key = settings.key("module-name")
    parts = tuple(name.split(".")) if derived else _check_module_name(name, key)
    stubs = parts[0].endswith("-stubs")
    tree.resolve("/".join(filter(None, (root_rel, *parts))), key)
    marker = "__init__.pyi" if stubs else "__init__.py"
    directory = root.joinpath(*parts)
    for depth in range(1, len(parts)):
        ancestor = root.joinpath(*parts[:depth])
        for init in ("__init__.py", "__init__.pyi"):
            if (ancestor / init).is_file():
                raise BuildBackendError(
                    f"`{_display(ancestor / init, project_root)}` must not exist: "
                    f"`{name}` is a namespace package and its parents must have no `{init}`",
                    hint=f"remove the file, or list `{'.'.join(parts[:depth])}` in `{key}` instead",
                )
    if (directory / marker).is_file():
        return Module(parts)
    single = directory.with_name(directory.name + (".pyi" if stubs else ".py"))
    if not stubs and single.is_file() and not directory.is_dir():
        tree.resolve("/".join(filter(None, (root_rel, *parts[:-1], single.name))), key)
        return Module(parts, single_file=True)
    rel = "/".join(parts) + "/" + marker
    raise _missing(root, project_root, rel, key, derived)


def find_layout(tree: Root, project_name: str, settings: BackendSettings) -> Layout:
    project_root = tree.path
    key = settings.key("module-root")
    root_rel = relative(project_root, settings.module_root, key, "the module root")
    tree.resolve(root_rel, key)
    root = project_root / root_rel if root_rel else project_root
    names: tuple[str, ...] | None = settings.module_name
    if settings.namespace:
        chosen = prune_module_names(names) if names is not None else [dist_name(project_name)]
        modules = []
        for name in chosen:
            if names is None:
                parts: tuple[str, ...] = (name,)
            else:
                parts = _check_module_name(name, settings.key("module-name"))
            tree.resolve("/".join(filter(None, (root_rel, *parts))), settings.key("module-name"))
            single = root.joinpath(*parts[:-1], parts[-1] + ".py")
            is_single = single.is_file() and not root.joinpath(*parts).is_dir()
            modules.append(Module(parts, single_file=is_single))
        return Layout(root_rel, root, tuple(modules))
    if names is None:
        normal = canonical_name(project_name)
        if normal.endswith("-stubs"):
            derived = dist_name(normal[: -len("-stubs")]) + "-stubs"
        else:
            derived = dist_name(project_name)
        module = _find_one(root, tree, root_rel, derived, settings, derived=True)
        return Layout(root_rel, root, (module,))
    modules = [
        _find_one(root, tree, root_rel, n, settings, derived=False)
        for n in prune_module_names(names)
    ]
    return Layout(root_rel, root, tuple(modules))
