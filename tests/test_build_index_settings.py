"""The first-index hint: a failed resolution names the index a package was taken from.

A loopback index pair stands in for mirrors that hold different versions: index A, listed
first (``extra-index-url``), has only ``standin-backend`` 4.1.0; index B (``index-url``) has 3.9.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer
from packaging.requirements import Requirement
from wheelbuilder import make_wheel

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.core.index.source import IndexPackageSource
from kiln.core.resolver.driver import resolve
from kiln.core.resolver.errors import ResolutionError

#: A PEP 517 backend of its own: it writes a wheel with one module and records, in the
#: wheel's `Generator`, the version of the backend that built it.
BACKEND = '''
import base64, hashlib, os, re, zipfile

VERSION = {version!r}


def _project():
    text = open("pyproject.toml", encoding="utf-8").read()
    name = re.search(r'^name = "([^"]+)"', text, re.M).group(1)
    version = re.search(r'^version = "([^"]+)"', text, re.M).group(1)
    return name, version


def _record_line(path, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{{path}},sha256={{digest}},{{len(data)}}\\n"


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version = _project()
    dist = name.replace("-", "_")
    info = f"{{dist}}-{{version}}.dist-info"
    members = {{
        f"{{dist}}.py": b"",
        f"{{info}}/METADATA": f"Metadata-Version: 2.1\\nName: {{name}}\\nVersion: {{version}}\\n".encode(),
        f"{{info}}/WHEEL": (
            "Wheel-Version: 1.0\\nGenerator: standin-backend " + VERSION
            + "\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n"
        ).encode(),
    }}
    record = "".join(_record_line(p, d) for p, d in members.items()) + f"{{info}}/RECORD,,\\n"
    members[f"{{info}}/RECORD"] = record.encode()
    filename = f"{{dist}}-{{version}}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for path, data in members.items():
            archive.writestr(path, data)
    return filename
'''

BUILD_SYSTEM = (
    '[build-system]\nrequires = ["standin-backend>=3.2,<4"]\n'
    'build-backend = "standin_backend"\n'
)


def backend_wheel(directory: Path, version: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return make_wheel(
        directory, "standin_backend", version,
        {"standin_backend/__init__.py": BACKEND.format(version=version)},
    )


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[IndexServer, IndexServer]]:
    """A (listed first) holds only 4.1.0; B holds 3.9."""
    root = tmp_path_factory.mktemp("standin")
    first, second = IndexServer(), IndexServer()
    first.add(backend_wheel(root / "a", "4.1.0"))
    first.add(make_wheel(root / "a", "helper", "1.0", {"helper/__init__.py": ""},
                         requires=("standin-backend>=3.2,<4",)))
    second.add(backend_wheel(root / "b", "3.9"))
    with first, second:
        yield first, second


# --- the first-index hint ------------------------------------------------------------------


def test_a_failed_first_index_resolution_names_each_index_and_its_versions(
    tmp_path: Path, indexes: tuple[IndexServer, IndexServer]
) -> None:
    first, second = indexes
    locations = resolve_locations(
        IndexOptions(index_url=second.url, extra_index_url=(first.url,)), None, environ={},
        cwd=tmp_path,
    )
    options = ClientOptions(cache_dir=tmp_path / "cache", retries=0)
    wanted = [Requirement("helper")]  # which requires standin-backend>=3.2,<4
    with (
        IndexPackageSource(locations, options, environ={}) as source,
        pytest.raises(ResolutionError) as raised,
    ):
        resolve(wanted, source)
    assert raised.value.hint == (
        f"with the index strategy `first-index`, kiln took `helper` from index `{first.url}` "
        f"(which has 1.0) and `standin-backend` from index `{first.url}` (which has 4.1.0), "
        "and searched no later index for them (a defence against dependency confusion); if "
        "every index is trusted, `--index-strategy unsafe-best-match` (or "
        "`KILN_INDEX_STRATEGY=unsafe-best-match`) takes the best version from all of them"
    )
    best = resolve_locations(
        IndexOptions(index_url=second.url, extra_index_url=(first.url,),
                     strategy="unsafe-best-match"),
        None, environ={}, cwd=tmp_path,
    )
    with IndexPackageSource(best, options, environ={}) as source:
        pins = {p.name: str(p.version) for p in resolve(wanted, source).packages.values()}
    assert pins == {"helper": "1.0", "standin-backend": "3.9"}
