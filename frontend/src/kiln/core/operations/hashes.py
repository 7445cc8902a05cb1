"""``--hash`` checking: which digests each package may have, and verifying files.

Only strong algorithms verify anything (:data:`~kiln.core.requirements_file.STRONG_HASHES`):
the requirements reader refuses a line whose hashes are all weak (``md5``) and leaves out
a weak hash next to a strong one, and the functions here ignore any that get through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.requirements_file import STRONG_HASHES, RequirementSpec
from kiln.errors import KilnError

#: name -> algorithm -> allowed hex digests.
AllowedHashes = Mapping[NormalizedName, Mapping[str, frozenset[str]]]

HINT = "pin every package with `==` and list its hashes, e.g. `name==1.0 --hash=sha256:<digest>`"


def allowed_hashes(specs: Iterable[RequirementSpec]) -> dict[NormalizedName, dict[str, frozenset[str]]]:
    """name -> algorithm -> digests, merged over every requirement line of the name (strong
    algorithms only)."""
    allowed: dict[NormalizedName, dict[str, frozenset[str]]] = {}
    for spec in specs:
        strong = {k: v for k, v in spec.hashes.items() if k in STRONG_HASHES}
        if not strong:
            continue
        entry = allowed.setdefault(canonicalize_name(spec.requirement.name), {})
        for algorithm, digests in strong.items():
            entry[algorithm] = entry.get(algorithm, frozenset()) | digests
    return allowed


def hash_checking(specs: Sequence[RequirementSpec], require_hashes: bool) -> bool:
    """Whether hashes are checked; then every requirement must be pinned and hashed."""
    if not require_hashes and not any(spec.hashes for spec in specs):
        return False
    for spec in specs:
        requirement = spec.requirement
        if spec.editable or (requirement.url is not None and requirement.url.startswith(("git+", "file:")) and not requirement.url.endswith((".whl", ".tar.gz", ".zip"))):
            raise KilnError(
                f"{spec.origin}: `{requirement}` cannot be hash-checked",
                hint="hash checking needs files: drop the directory or repository requirement, "
                "or turn hash checking off",
            )
        pinned = requirement.url is not None or any(
            s.operator in ("==", "===") and "*" not in s.version for s in requirement.specifier
        )
        if not pinned:
            raise KilnError(
                f"{spec.origin}: `{requirement}` is not pinned with `==`, "
                "which hash checking requires",
                hint=HINT,
            )
        if not spec.hashes:
            raise KilnError(f"{spec.origin}: `{requirement}` has no `--hash`", hint=HINT)
    return True


def check_all_hashed(
    names: Iterable[NormalizedName], allowed: Mapping[NormalizedName, object]
) -> None:
    missing = sorted(name for name in names if name not in allowed)
    if missing:
        shown = ", ".join(f"`{name}`" for name in missing)
        raise KilnError(
            f"hash checking is on, but these packages have no `--hash` in the requirements: {shown}",
            hint=HINT + "; or use `--no-deps`",
        )


def check_build_requirements_hashed(
    names: Iterable[NormalizedName],
    allowed: Mapping[NormalizedName, object],
    pinned: Collection[NormalizedName],
) -> None:
    """``--require-build-hashes``: every package of a build environment (``names``) needs a
    ``--hash`` in the build constraints (``allowed``) and an exact version there or a direct
    reference (``pinned``)."""
    names = sorted(names)
    missing = [name for name in names if name not in allowed]
    if missing:
        shown = ", ".join(f"`{name}`" for name in missing)
        others = " (and a line for each of the others)" if len(missing) > 1 else ""
        raise KilnError(
            f"`--require-build-hashes` is on, but the build constraints give no `--hash` for "
            f"these build requirements: {shown}",
            hint=f"add `{missing[0]}==VERSION --hash=sha256:<digest>`{others} to the "
            "`--build-constraint` file",
        )
    loose = [name for name in names if name not in pinned]
    if loose:
        shown = ", ".join(f"`{name}`" for name in loose)
        raise KilnError(
            f"`--require-build-hashes` is on, but the build constraints do not pin these build "
            f"requirements to one version with `==`: {shown}",
            hint=f"write `{loose[0]}==VERSION --hash=...` in the `--build-constraint` file",
        )


def verify_file(path: Path, name: str, allowed: Mapping[str, frozenset[str]]) -> None:
    """Raise unless ``path`` matches one of the allowed digests of some strong algorithm."""
    digests = {algo: hashlib.new(algo) for algo in allowed if algo in STRONG_HASHES}
    if not digests:
        raise KilnError(
            f"`{name}` has no sha256, sha384 or sha512 hash to check `{path.name}` against",
            hint=HINT,
        )
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            for digest in digests.values():
                digest.update(chunk)
    actual = {algo: digest.hexdigest() for algo, digest in digests.items()}
    if any(actual[algo] in allowed[algo] for algo in actual):
        return
    lines = [f"hash mismatch for `{name}` (`{path.name}`):"]
    for algo, value in sorted(actual.items()):
        lines.append(f"expected {algo}: {' or '.join(sorted(allowed[algo]))}")
        lines.append(f"got      {algo}: {value}")
    raise KilnError(
        "\n".join(lines),
        hint="the file differs from the one the requirements were written for; nothing was installed",
    )


def archive_check(
    allowed: AllowedHashes, *, required: bool = True
) -> Callable[[Path, NormalizedName], None]:
    """What checks an archive of a package before the build service reads or builds it:
    the package must have ``--hash`` digests (unless not ``required``: then only a package
    that has some is checked), and the file must match one."""

    def check(path: Path, name: NormalizedName) -> None:
        if not required and name not in allowed:
            return
        check_all_hashed([name], allowed)
        verify_file(path, str(name), allowed[name])

    return check
