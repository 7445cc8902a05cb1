"""``--hash`` checking: which digests each package may have, and verifying files.

Only strong algorithms verify anything (:data:`~kiln.core.requirements_file.STRONG_HASHES`):
the requirements reader refuses a line whose hashes are all weak (``md5``) and leaves out
a weak hash next to a strong one, and the functions here ignore any that get through.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name

from kiln.core.requirements_file import STRONG_HASHES, RequirementSpec
from kiln.errors import KilnError

#: name -> algorithm -> allowed hex digests.
AllowedHashes = Mapping[NormalizedName, Mapping[str, frozenset[str]]]

HINT = "pin every package with `==` and list its hashes, e.g. `name==1.0 --hash=sha256:<digest>`"


class MissingHashError(KilnError):
    """Hash checking is on, and a requirement or package lacks the pin or hash it needs."""


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


def hash_checking(
    specs: Sequence[RequirementSpec],
    require_hashes: bool,
    constraints: Sequence[RequirementSpec] = (),
) -> bool:
    """Whether every package must have a hash; then every requirement must be pinned and
    hashed. ``constraints``, the constraint lines with ``--hash`` values, pin and hash the
    requirements on their package (they must be pinned themselves); alone, they do not turn
    hash checking on: the files of their packages are checked, those of others are not."""
    if not require_hashes and not any(spec.hashes for spec in specs):
        return False
    vouched = {canonicalize_name(c.requirement.name) for c in constraints}
    for spec in [*specs, *constraints]:
        requirement = spec.requirement
        if spec.editable or (requirement.url is not None and requirement.url.startswith(("git+", "file:")) and not requirement.url.endswith((".whl", ".tar.gz", ".zip"))):
            raise KilnError(
                f"{spec.origin}: `{requirement}` cannot be hash-checked",
                hint="hash checking needs files: drop the directory or repository requirement, "
                "or turn hash checking off",
            )
        if not spec.hashes and canonicalize_name(requirement.name) in vouched:
            continue
        pinned = requirement.url is not None or any(
            s.operator in ("==", "===") and "*" not in s.version for s in requirement.specifier
        )
        if not pinned:
            raise MissingHashError(
                f"{spec.origin}: `{requirement}` is not pinned with `==`, "
                "which hash checking requires",
                hint=HINT,
            )
        if not spec.hashes:
            raise MissingHashError(f"{spec.origin}: `{requirement}` has no `--hash`", hint=HINT)
    return True


def check_all_hashed(
    names: Iterable[NormalizedName], allowed: Mapping[NormalizedName, object]
) -> None:
    missing = sorted(name for name in names if name not in allowed)
    if missing:
        shown = ", ".join(f"`{name}`" for name in missing)
        raise MissingHashError(
            f"hash checking is on, but these packages have no `--hash` in the requirements: {shown}",
            hint=HINT + "; or use `--no-deps`",
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
    allowed: AllowedHashes, *, require: bool = True
) -> Callable[[Path, NormalizedName], None]:
    """What checks an archive of a package before the build service reads or builds it:
    the file must match one of the ``--hash`` digests of its package; with ``require``, the
    package must have some (without, a package that has none is not checked)."""

    def check(path: Path, name: NormalizedName) -> None:
        if not require and name not in allowed:
            return
        check_all_hashed([name], allowed)
        verify_file(path, str(name), allowed[name])

    return check
