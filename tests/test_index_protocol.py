"""Simple API pages (PEP 503 HTML, PEP 691 JSON), metadata fetching, hashes, find-links."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from indexserver import IndexServer, build_sdist, build_wheel
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from kiln.core.index.clientoptions import ClientOptions
from kiln.core.index.locations import IndexOptions, resolve_locations
from kiln.core.index.source import IndexPackageSource
from kiln.core.types import DistFile
from kiln.errors import KilnError

DEMO = canonicalize_name("demo")


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dists")
    build_wheel(root, "demo", "1.0", requires_dist=["dep>=1"], padding=200_000)
    build_wheel(root, "demo", "2.0", requires_dist=["dep>=2", "extra-thing; extra == 'x'"],
                requires_python=">=3.9", padding=200_000)
    build_sdist(root, "demo", "2.0", requires_dist=["dep>=2"])
    build_wheel(root, "other", "0.1")
    return root


def _server(dists: Path, **switches: object) -> IndexServer:
    server = IndexServer(**switches)  # type: ignore[arg-type]
    server.add(dists / "demo-1.0-py3-none-any.whl", yanked="broken build")
    server.add(dists / "demo-2.0-py3-none-any.whl", requires_python=">=3.9")
    server.add(dists / "demo-2.0.tar.gz")
    server.add(dists / "other-0.1-py3-none-any.whl")
    return server


@pytest.fixture
def server(dists: Path) -> Iterator[IndexServer]:
    with _server(dists) as running:
        yield running


def _source(tmp_path: Path, *urls: str, **options: object) -> IndexPackageSource:
    locations = resolve_locations(
        IndexOptions(default_index=urls[0], index=list(urls[1:])), None, environ={}, cwd=tmp_path
    )
    return IndexPackageSource(
        locations, ClientOptions(cache_dir=tmp_path / "cache", retries=0, **options),  # type: ignore[arg-type]
        environ={},
    )


@pytest.mark.parametrize("json_api", [True, False], ids=["pep691-json", "pep503-html"])
def test_project_page_is_parsed(tmp_path: Path, dists: Path, json_api: bool) -> None:
    with _server(dists, json_api=json_api) as server, _source(tmp_path, server.url) as source:
        files = source.files(DEMO)
        accept = server.requests("/simple/demo/")[0].headers["Accept"]
    assert accept.startswith("application/vnd.pypi.simple.v1+json")
    assert [f.filename for f in files] == [
        "demo-1.0-py3-none-any.whl", "demo-2.0-py3-none-any.whl", "demo-2.0.tar.gz"]
    by_name = {f.filename: f for f in files}
    old, new, sdist = (by_name[n] for n in sorted(by_name))
    assert old.yanked == "broken build"
    assert new.yanked is None
    assert new.requires_python == SpecifierSet(">=3.9")
    assert new.version == Version("2.0")
    assert new.is_wheel and not sdist.is_wheel
    assert new.has_metadata_file and not sdist.has_metadata_file
    assert len(new.hashes["sha256"]) == 64
    assert new.url == f"{server.base}/files/demo-2.0-py3-none-any.whl"
    assert {f.index for f in files} == {server.url}


def test_unknown_package_has_no_files(tmp_path: Path, server: IndexServer) -> None:
    with _source(tmp_path, server.url) as source:
        assert source.files(canonicalize_name("nope")) == []


def test_metadata_from_pep658_file(tmp_path: Path, server: IndexServer) -> None:
    with _source(tmp_path, server.url) as source:
        wheel = next(f for f in source.files(DEMO) if f.version == Version("2.0") and f.is_wheel)
        metadata = source.metadata(wheel)
        assert source.metadata_fetcher.methods[wheel.url] == "metadata-file"
    assert [str(r) for r in metadata.requires_dist or []] == [
        "dep>=2", 'extra-thing; extra == "x"']
    assert server.requests("/files/demo-2.0-py3-none-any.whl.metadata")
    assert not server.requests("/files/demo-2.0-py3-none-any.whl", method="GET")[1:]


@pytest.mark.parametrize("json_api", [True, False], ids=["pep691-json", "pep503-html"])
def test_metadata_file_hash_is_read_and_verified(tmp_path: Path, dists: Path, json_api: bool) -> None:
    server = IndexServer(json_api=json_api)
    server.add(dists / "other-0.1-py3-none-any.whl")
    with server, _source(tmp_path / "good", server.url) as source:
        (wheel,) = source.files(canonicalize_name("other"))
        assert len(wheel.metadata_hashes["sha256"]) == 64
        assert source.metadata(wheel).version == Version("0.1")
    tampered = IndexServer(json_api=json_api)
    tampered.add(dists / "other-0.1-py3-none-any.whl", advertised_metadata_sha256="cd" * 32)
    with tampered, _source(tmp_path / "bad", tampered.url) as source:
        (wheel,) = source.files(canonicalize_name("other"))
        with pytest.raises(KilnError, match=r"metadata file of `other-0\.1-py3-none-any\.whl`"):
            source.metadata(wheel)


def test_metadata_from_range_requests(tmp_path: Path, dists: Path) -> None:
    with _server(dists, metadata_files=False) as server, \
            _source(tmp_path, server.url) as source:
        wheel = next(f for f in source.files(DEMO) if f.version == Version("2.0") and f.is_wheel)
        metadata = source.metadata(wheel)
        assert source.metadata_fetcher.methods[wheel.url] == "range"
        gets = server.requests("/files/demo-2.0-py3-none-any.whl", method="GET")
    assert metadata.version == Version("2.0")
    assert gets and all("Range" in r.headers for r in gets)
    assert all(r.status == 206 for r in gets)
    size = (dists / "demo-2.0-py3-none-any.whl").stat().st_size
    assert len(gets) < 4 and size > 100_000


def test_metadata_from_full_download_without_ranges(tmp_path: Path, dists: Path) -> None:
    with _server(dists, metadata_files=False, range_requests=False) as server, \
            _source(tmp_path, server.url) as source:
        wheel = next(f for f in source.files(DEMO) if f.version == Version("1.0"))
        metadata = source.metadata(wheel)
        assert source.metadata_fetcher.methods[wheel.url] == "download"
    assert [str(r) for r in metadata.requires_dist or []] == ["dep>=1"]


def test_sdist_metadata_from_pkg_info(tmp_path: Path, server: IndexServer) -> None:
    with _source(tmp_path, server.url) as source:
        sdist = next(f for f in source.files(DEMO) if not f.is_wheel)
        metadata = source.metadata(sdist)
    assert [str(r) for r in metadata.requires_dist or []] == ["dep>=2"]


def test_download_is_verified_and_cached(tmp_path: Path, server: IndexServer, dists: Path) -> None:
    with _source(tmp_path, server.url) as source:
        wheel = next(f for f in source.files(DEMO) if f.version == Version("2.0") and f.is_wheel)
        first = source.download(wheel)
        second = source.download(wheel)
    assert first == second
    assert first.read_bytes() == (dists / wheel.filename).read_bytes()
    assert wheel.hashes["sha256"] in str(first)
    assert len(server.requests(f"/files/{wheel.filename}", method="GET")) == 1


def test_hash_mismatch_is_refused(tmp_path: Path, dists: Path) -> None:
    server = IndexServer()
    server.add(dists / "other-0.1-py3-none-any.whl", advertised_sha256="ab" * 32)
    with server, _source(tmp_path, server.url) as source:
        (wheel,) = source.files(canonicalize_name("other"))
        with pytest.raises(KilnError, match=r"hash mismatch for `other-0\.1-py3-none-any\.whl`"):
            source.download(wheel)
    leftovers = list((tmp_path / "cache").rglob("*.whl"))
    assert leftovers == []


def test_find_links_directory(tmp_path: Path, dists: Path) -> None:
    locations = resolve_locations(
        IndexOptions(no_index=True, find_links=[str(dists)]), None, environ={}, cwd=tmp_path)
    with IndexPackageSource(locations, ClientOptions(cache_dir=tmp_path / "c")) as source:
        files = source.files(DEMO)
        assert [f.filename for f in files] == [
            "demo-1.0-py3-none-any.whl", "demo-2.0-py3-none-any.whl", "demo-2.0.tar.gz"]
        assert source.download(files[0]) == dists / "demo-1.0-py3-none-any.whl"
        assert source.metadata(files[1]).version == Version("2.0")


def test_find_links_html_page_is_merged_with_the_index(
    tmp_path: Path, server: IndexServer, dists: Path
) -> None:
    page = tmp_path / "links.html"
    extra = build_wheel(tmp_path / "more", "demo", "3.0")
    page.write_text(f'<a href="{extra.as_uri()}">demo 3.0</a>', encoding="utf-8")
    locations = resolve_locations(
        IndexOptions(default_index=server.url, find_links=[str(page)]), None, environ={},
        cwd=tmp_path)
    with IndexPackageSource(locations, ClientOptions(cache_dir=tmp_path / "c")) as source:
        versions = sorted({str(f.version) for f in source.files(DEMO)})
    assert versions == ["1.0", "2.0", "3.0"]


def test_local_simple_index_directory(tmp_path: Path, dists: Path) -> None:
    project = tmp_path / "simple" / "demo"
    project.mkdir(parents=True)
    wheel = dists / "demo-1.0-py3-none-any.whl"
    (project / "index.html").write_text(f'<a href="{wheel.as_uri()}">x</a>', encoding="utf-8")
    with _source(tmp_path, str(tmp_path / "simple")) as source:
        assert [f.filename for f in source.files(DEMO)] == [wheel.name]
        assert source.files(canonicalize_name("other")) == []


def test_unsupported_api_version_is_an_error(tmp_path: Path) -> None:
    from kiln.core.index.simple import parse_json

    with pytest.raises(KilnError, match=r"Simple API version 2\.0"):
        parse_json(b'{"meta": {"api-version": "2.0"}, "files": []}', "https://x.example/simple/")


def test_server_error_names_the_index(tmp_path: Path, server: IndexServer) -> None:
    server.status_override["/simple/demo/"] = 500
    with _source(tmp_path, server.url) as source, pytest.raises(KilnError) as info:
        source.files(DEMO)
    assert "answered 500" in info.value.message


# -- parsed-page cache ---------------------------------------------------------------------


def _parsed_entries(tmp_path: Path, project: str) -> list[Path]:
    folder = tmp_path / "cache" / "pages-v1" / project
    return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("json_api", [True, False], ids=["pep691-json", "pep503-html"])
def test_unchanged_page_is_not_parsed_again(
    tmp_path: Path, dists: Path, json_api: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiln.core.index import listing

    with _server(dists, json_api=json_api) as server:
        with _source(tmp_path, server.url) as source:
            first = list(source.files(DEMO))
        assert len(_parsed_entries(tmp_path, "demo")) == 1

        def no_parsing(*args: object) -> list[object]:
            raise AssertionError("the page was parsed although it did not change")

        monkeypatch.setattr(listing, "parse_page", no_parsing)
        with _source(tmp_path, server.url) as source:
            second = list(source.files(DEMO))
        assert len(server.requests("/simple/demo/")) == 2  # fetched again, not parsed again
    assert second == first
    assert [f.filename for f in second] == [
        "demo-1.0-py3-none-any.whl", "demo-2.0-py3-none-any.whl", "demo-2.0.tar.gz"]
    assert second[0].yanked == "broken build"


def test_changed_page_is_parsed_and_replaces_its_entry(tmp_path: Path, dists: Path) -> None:
    with _server(dists) as server:
        with _source(tmp_path, server.url) as source:
            assert len(source.files(DEMO)) == 3
        before = _parsed_entries(tmp_path, "demo")
        server.add(build_wheel(tmp_path / "more", "demo", "3.0"))
        with _source(tmp_path, server.url) as source:
            files = source.files(DEMO)
    assert [f.version for f in files if f.is_wheel] == [Version("1.0"), Version("2.0"),
                                                         Version("3.0")]
    after = _parsed_entries(tmp_path, "demo")
    assert len(after) == 1 and after != before


def test_unreadable_parsed_entry_falls_back_to_parsing(tmp_path: Path, server: IndexServer) -> None:
    with _source(tmp_path, server.url) as source:
        first = list(source.files(DEMO))
    (entry,) = _parsed_entries(tmp_path, "demo")
    entry.write_bytes(b"\x00not a parsed page")
    with _source(tmp_path, server.url) as source:
        assert list(source.files(DEMO)) == first


def test_flat_location_is_read_once_by_concurrent_lookups(
    tmp_path: Path, dists: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from kiln.core.index.listing import ListingFetcher

    reads: list[int] = []
    original = ListingFetcher._flat_raw

    def counted(self: ListingFetcher, index: object) -> object:
        reads.append(1)
        return original(self, index)  # type: ignore[arg-type]

    monkeypatch.setattr(ListingFetcher, "_flat_raw", counted)
    locations = resolve_locations(
        IndexOptions(no_index=True, find_links=[str(dists)]), None, environ={}, cwd=tmp_path
    )
    found: dict[str, list[str]] = {}
    with IndexPackageSource(locations, ClientOptions(cache_dir=tmp_path / "cache"),
                            environ={}) as source:
        def look(name: str) -> None:
            found[name] = [f.filename for f in source.files(canonicalize_name(name))]

        threads = [threading.Thread(target=look, args=(n,)) for n in ("demo", "other") * 4]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(reads) == 1
    assert found["other"] == ["other-0.1-py3-none-any.whl"]
    assert found["demo"] == [
        "demo-1.0-py3-none-any.whl", "demo-2.0-py3-none-any.whl", "demo-2.0.tar.gz"]


@pytest.mark.parametrize("cached", [False, True], ids=["parsed", "from-parsed-cache"])
def test_narrowed_lookup_returns_only_the_wanted_versions(
    tmp_path: Path, server: IndexServer, cached: bool
) -> None:
    if cached:
        with _source(tmp_path, server.url) as source:
            assert len(source.files(DEMO)) == 3
    with _source(tmp_path, server.url) as source:
        narrowed = source.files(DEMO, SpecifierSet("==2.0"))
        missing = source.files(DEMO, SpecifierSet("==9.0"))
        everything = source.files(DEMO)
    assert [f.filename for f in narrowed] == ["demo-2.0-py3-none-any.whl", "demo-2.0.tar.gz"]
    assert narrowed[0].requires_python == SpecifierSet(">=3.9")
    assert missing == []  # the index has the project, just not that version
    assert len(everything) == 3


def test_narrowing_does_not_change_which_index_serves_a_package(
    tmp_path: Path, dists: Path
) -> None:
    # first-index: the first index has `demo` (not 2.0), so a later index's 2.0 stays unused.
    first = IndexServer()
    first.add(dists / "demo-1.0-py3-none-any.whl")
    with first, _server(dists) as second, _source(tmp_path, second.url, first.url) as source:
        assert source.files(DEMO, SpecifierSet("==2.0")) == []
        assert [f.version for f in source.files(DEMO)] == [Version("1.0")]


def test_a_page_is_requested_once_per_run_whatever_versions_are_wanted(
    tmp_path: Path, server: IndexServer
) -> None:
    with _source(tmp_path, server.url) as source:
        assert len(source.files(DEMO, SpecifierSet("==1.0"))) == 1
        assert len(source.files(DEMO)) == 3  # e.g. a second resolution without the pin
        assert len(source.files(DEMO, SpecifierSet("==2.0"))) == 2
    assert len(server.requests("/simple/demo/")) == 1


def _big_page(versions: int) -> list[DistFile]:
    from packaging.tags import Tag

    files: list[DistFile] = []
    for major in range(versions):
        version = Version(f"{major}.0")
        for platform in ("manylinux_2_17_x86_64", "macosx_11_0_arm64", "win_amd64"):
            name = f"big-{version}-cp311-cp311-{platform}.whl"
            files.append(DistFile(
                name=canonicalize_name("big"), version=version, filename=name,
                url=f"https://files.example/{name}", hashes={"sha256": f"{major:064x}"},
                requires_python=SpecifierSet(">=3.9") if major % 2 else None,
                yanked="bad" if major == 7 else None,
                tags=frozenset({Tag("cp311", "cp311", platform)}),
                has_metadata_file=major % 3 == 0, index="pypi",
            ))
    return files


class _CountingReader:
    def __init__(self, data: bytes) -> None:
        import io

        self._io = io.BytesIO(data)
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self._io.read(size)
        self.read_bytes += len(chunk)
        return chunk

    def seek(self, offset: int) -> int:
        return self._io.seek(offset)


@pytest.mark.parametrize("pins", ["==700", "==7.0", ">=990", None])
def test_a_stored_page_gives_back_the_files_of_the_wanted_versions(pins: str | None) -> None:
    from kiln.core.index.narrowing import narrow
    from kiln.core.index.pagecache import _dump, _load

    files = _big_page(1000)
    entry = _dump(files)
    reader = _CountingReader(entry)
    wanted = SpecifierSet(pins) if pins is not None else None
    loaded = _load(reader, canonicalize_name("big"), "pypi", wanted)  # type: ignore[arg-type]
    assert loaded == narrow(files, wanted)
    if pins is not None and pins.startswith("=="):
        assert len(loaded) == 3
        # A pin reads the table and one version's rows, not the whole entry.
        assert reader.read_bytes < len(entry) / 4


def test_a_truncated_stored_page_is_ignored() -> None:
    import io

    from kiln.core.index.pagecache import _dump, _load

    entry = _dump(_big_page(1000))
    for cut in (2, 100, len(entry) - 10):
        damaged = io.BytesIO(entry[:cut])
        assert _load(damaged, canonicalize_name("big"), "pypi", SpecifierSet("==999")) is None


_VERSIONS = [
    "0", "0.9", "1", "1.0.1", "1.0a1", "1.0.dev3", "1.0.post2", "1.0+cpu", "1.0.0+cu118",
    "1.01", "10.0", "1!1.0", "1!1.0.0.post1", "2.50.4", "2.50.40", "2.5.4", "2.50.4rc1",
]


@pytest.mark.parametrize("pins", [
    "==1.0", "==1", "==1.0.0", "==1.0+cpu", "==1!1", "==2.50.4", "==0.0", "==1.0,==1.0.0",
    "==1.0,>=0.5", "==1.*", "===1.0", ">=1", "==1.0,==2.50.4",
])
def test_exact_pin_prefilter_never_drops_a_version_the_pin_contains(pins: str) -> None:
    from kiln.core.index.narrowing import pinned_release, release_key

    wanted = SpecifierSet(pins)
    key = pinned_release(wanted)
    contained = {t for t in _VERSIONS if wanted.contains(Version(t), prereleases=True)}
    if key is None:
        assert "==" not in pins.replace("===", "") or ".*" in pins
        return
    passed = {t for t in _VERSIONS if release_key(str(Version(t))) == key}
    assert contained <= passed
    # ... and it does drop what cannot match: a page's other releases.
    assert "10.0" not in passed
    assert "2.5.4" not in passed or pins == "==2.5.4"


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_metadata_is_read_from_its_headers_and_the_description_body_is_skipped(
    newline: str,
) -> None:
    from packaging.metadata import Metadata

    from kiln.core.index.metadata import parse_metadata
    from kiln.core.types import DistFile

    lines = [
        "Metadata-Version: 2.1", "Name: demo", "Version: 1.0", "Requires-Python: >=3.9",
        "Requires-Dist: alpha>=1", "Requires-Dist: beta; extra == 'x'", "Provides-Extra: x",
        "Description-Content-Type: text/markdown", "",
        "# Demo", "", "Requires-Dist: not-a-header (this is the description)",
    ]
    raw = newline.join(lines).encode()
    file = DistFile(
        name=canonicalize_name("demo"), version=Version("1.0"),
        filename="demo-1.0-py3-none-any.whl", url="https://example.invalid/demo.whl",
    )
    ours = parse_metadata(raw, file)
    full = Metadata.from_email(raw, validate=False)
    for field in ("name", "version", "requires_python", "requires_dist", "provides_extra"):
        assert getattr(ours, field) == getattr(full, field), field
    assert [str(r) for r in ours.requires_dist or []] == ["alpha>=1", 'beta; extra == "x"']
    assert full.description is not None and ours.description is None


# -- trusted certificates ------------------------------------------------------------------


def test_certificates_warmed_up_in_the_background_are_loaded_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import certifi

    from kiln.core.index.tls import ssl_context, warm_up_tls

    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    warm_up_tls()
    first = ssl_context()
    assert first.cert_store_stats()["x509_ca"] > 10
    assert ssl_context() is first
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "other.pem"))
    with pytest.raises(KilnError, match="cannot load the trusted certificates"):
        ssl_context()
    (tmp_path / "other.pem").write_bytes(bundle.read_bytes())
    second = ssl_context()  # a failure is not remembered
    assert second is not first
