"""The parsed-page cache names its entries by the code that parsed them, so changing the
parser (a fix) can never serve a page parsed by the old code."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import packaging
import pytest
from packaging.utils import canonicalize_name

import kiln
from kiln.core.index import pagecache, simple
from kiln.core.index.pagecache import ParsedPageCache, code_key
from kiln.core.index.simple import JSON_TYPE, parse_page

URL = "https://index.example/simple/demo/"
PAGE = json.dumps({
    "meta": {"api-version": "1.0"},
    "name": "demo",
    "files": [
        {"filename": name, "url": f"https://files.example/{name}", "hashes": {"sha256": "ab" * 32}}
        for name in ("demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz", "demo-2.0-py3-none-any.whl")
    ],
}).encode()

#: Parses PAGE through the cache (as the index client does) and says what happened.
PROBE = f"""
import json, sys
from pathlib import Path
from packaging.utils import canonicalize_name
from kiln.core.index import pagecache, simple

calls = []

def parse():
    calls.append(1)
    return simple.parse_page({PAGE!r}, simple.JSON_TYPE, {URL!r}, canonicalize_name("demo"), "pypi")

files = pagecache.ParsedPageCache(Path(sys.argv[1])).files(
    canonicalize_name("demo"), {URL!r}, simple.JSON_TYPE, {PAGE!r}, "pypi", parse)
print(json.dumps({{"parser": simple.__file__, "format": pagecache.FORMAT, "parsed": bool(calls),
                  "files": [[f.filename, f.yanked] for f in files]}}))
"""

#: A change to the parser: it now reports every file of a page as yanked.
FIX = """

_unfixed_parse_page = parse_page


def parse_page(*args, **kwargs):
    files = _unfixed_parse_page(*args, **kwargs)
    for f in files:
        f.yanked = "fixed"
    return files
"""


def _parse_with(source: Path, cache: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(cache)], capture_output=True, text=True, check=True,
        cwd=source, env={**os.environ, "PYTHONPATH": str(source)},
    )
    outcome: dict[str, Any] = json.loads(result.stdout)
    assert Path(outcome["parser"]).is_relative_to(source)  # the copy runs, not the tree's kiln
    return outcome


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "pages-v1" / "demo").iterdir())


def test_a_changed_parser_parses_again_instead_of_reading_the_old_entry(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(Path(kiln.__file__).parent, source / "kiln",
                    ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"
    first = _parse_with(source, cache)
    assert first["parsed"]
    assert [yanked for _, yanked in first["files"]] == [None, None, None]
    again = _parse_with(source, cache)
    assert not again["parsed"]  # the entry is used while the code stays the same
    assert again["files"] == first["files"]
    (stale,) = _entries(cache)

    parser = source / "kiln" / "core" / "index" / "simple.py"
    parser.write_text(parser.read_text(encoding="utf-8") + FIX, encoding="utf-8")
    fixed = _parse_with(source, cache)
    assert fixed["format"] != first["format"]
    assert fixed["parsed"]
    assert [yanked for _, yanked in fixed["files"]] == ["fixed", "fixed", "fixed"]
    assert [f for f, _ in fixed["files"]] == [f for f, _ in first["files"]]
    (entry,) = _entries(cache)  # the entry of the old code is replaced, not kept beside
    assert entry != stale
    assert _parse_with(source, cache) == {**fixed, "parsed": False}


def test_the_format_is_a_digest_of_the_code_that_parses_and_stores_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert simple in pagecache.CODE and pagecache in pagecache.CODE
    assert code_key(pagecache.CODE) == pagecache.FORMAT

    copy = tmp_path / "simple.py"
    copy.write_bytes(Path(simple.__file__).read_bytes())
    spec = importlib.util.spec_from_file_location(simple.__name__, copy)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)  # not run: only its file is read
    key = code_key([module])
    assert key is not None and code_key([module]) == key
    with copy.open("a", encoding="utf-8") as file:
        file.write('\nHASH_ALGORITHMS = frozenset({"sha256"})\n')
    assert code_key([module]) not in (key, None)

    monkeypatch.setattr(packaging, "__version__", "0.0")  # filenames may parse otherwise
    assert code_key(pagecache.CODE) != pagecache.FORMAT


def test_pages_are_not_cached_when_the_parsing_code_has_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert code_key([types.ModuleType("from_nowhere")]) is None
    monkeypatch.setattr(pagecache, "FORMAT", None)
    calls: list[int] = []

    def parse() -> list[Any]:
        calls.append(1)
        return parse_page(PAGE, JSON_TYPE, URL, canonicalize_name("demo"), "pypi")

    cache = ParsedPageCache(tmp_path)
    for _ in range(2):
        files = cache.files(canonicalize_name("demo"), URL, JSON_TYPE, PAGE, "pypi", parse)
        assert len(files) == 3
    assert calls == [1, 1]
    assert not (tmp_path / "pages-v1").exists()
