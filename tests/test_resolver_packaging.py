"""Python-packaging semantics of the resolver: locals, pre-releases, yanks, extras, markers."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement
from resolver_universe import Universe, linux, solve

from kiln.core.resolver.driver import resolve
from kiln.core.resolver.environment import TargetEnvironment
from kiln.core.resolver.errors import ResolutionError
from kiln.core.resolver.versions import Point, specifier_set_range


@pytest.mark.parametrize(
    ("specifier", "admitted"),
    [
        ("==2.5.1", ["2.5.1", "2.5.1+cpu"]),
        ("==2.5.1+cpu", ["2.5.1+cpu"]),
        ("!=2.5.1", ["1.0", "1.4.5", "2.0rc1", "2.0", "2.0.post1", "3.0a1"]),
        ("<2", ["1.0", "1.4.5"]),
        (">2.0", ["2.5.1", "2.5.1+cpu", "3.0a1"]),
        ("~=1.4.2", ["1.4.5"]),
        ("==2.*", ["2.0rc1", "2.0", "2.0.post1", "2.5.1", "2.5.1+cpu"]),
        ("===2.0", ["2.0"]),
    ],
)
def test_specifiers_become_ranges_with_pep440_semantics(
    specifier: str, admitted: list[str]
) -> None:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    versions = ["1.0", "1.4.5", "2.0rc1", "2.0", "2.0.post1", "2.5.1", "2.5.1+cpu", "3.0a1"]
    found = specifier_set_range(SpecifierSet(specifier))
    assert [v for v in versions if found.contains(Point(Version(v)))] == admitted


def test_a_long_specifier_set_admits_what_packaging_admits() -> None:
    """Thousands of specifiers are intersected in one sort, and membership is a binary
    search: both must agree with ``packaging`` version by version."""
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

    texts = [f"!=1.{i}" for i in range(0, 600, 3)] + [f"!=2.{i}.*" for i in range(0, 40, 7)]
    texts += [">=0.5", "<3", "!=1.1+cpu", "~=1.0", ">1.2.post1"]
    specifiers = SpecifierSet(",".join(texts))
    found = specifier_set_range(specifiers)
    one_by_one = specifier_set_range(list(specifiers)[:2])
    for specifier in list(specifiers)[2:]:
        one_by_one = one_by_one.intersection(specifier_set_range([specifier]))
    assert found == one_by_one
    candidates = [f"1.{i}" for i in range(700)] + [f"2.{i}.1" for i in range(50)]
    candidates += ["0.4", "1.1+cpu", "1.2.post1", "1.2.post2", "3.0", "1.5a1"]
    for text in candidates:
        version = Version(text)
        assert found.contains(Point(version)) == specifiers.contains(
            version, prereleases=True
        ), text


def test_plain_pin_matches_a_local_version() -> None:
    u = Universe()
    u.add("torch", "2.5.1+cpu")
    u.add("torch", "2.4.0")
    assert solve(u, "torch==2.5.1") == {"torch": "2.5.1+cpu"}


def test_missing_local_version_is_explained_like_the_seed() -> None:
    u = Universe()
    u.add("app", "2.4.0", ["torch==2.1.0+cpu"])
    u.add("torch", "2.1.0")
    with pytest.raises(ResolutionError) as info:
        solve(u, "app")
    assert info.value.explanation == (
        "Because app==2.4.0 depends on torch==2.1.0+cpu and there is no version of "
        "torch==2.1.0+cpu, we can conclude that app==2.4.0 cannot be used.\n"
        "And because you require app, we can conclude that your requirements are unsatisfiable."
    )
    assert str(info.value).startswith("no solution found when resolving dependencies:\n  Because")


def test_prereleases_are_skipped_when_a_stable_version_fits() -> None:
    u = Universe()
    u.add("foo", "1.0")
    u.add("foo", "2.0b1")
    assert solve(u, "foo") == {"foo": "1.0"}
    assert solve(u, "foo", prerelease="allow") == {"foo": "2.0b1"}


def test_prerelease_is_used_when_a_specifier_names_one() -> None:
    u = Universe()
    u.add("foo", "1.0")
    u.add("foo", "2.0b1")
    assert solve(u, "foo>=2.0b1") == {"foo": "2.0b1"}


def test_prerelease_is_used_when_nothing_else_fits() -> None:
    u = Universe()
    u.add("foo", "1.0")
    u.add("foo", "2.0b1")
    u.add("bar", "1.0", ["foo>=1.5"])
    assert solve(u, "bar") == {"bar": "1.0", "foo": "2.0b1"}
    with pytest.raises(ResolutionError):
        solve(u, "bar", prerelease="disallow")


def test_yanked_versions_are_skipped_unless_pinned() -> None:
    u = Universe()
    u.add("foo", "1.0")
    u.add("foo", "1.1", yanked="broken")
    assert solve(u, "foo") == {"foo": "1.0"}
    assert solve(u, "foo==1.1") == {"foo": "1.1"}


def test_only_yanked_versions_explain_the_yank() -> None:
    u = Universe()
    u.add("foo", "1.1", yanked="broken")
    with pytest.raises(ResolutionError) as info:
        solve(u, "foo>=1")
    assert "foo==1.1 was yanked (reason: broken)" in info.value.explanation


def test_extras_pull_in_their_requirements_at_the_same_version() -> None:
    u = Universe()
    u.add("foo", "1.0", ["bar; extra == 'fast'"], extras=["fast"])
    u.add("foo", "2.0", ["bar>=2; extra == 'fast'"], extras=["fast"])
    u.add("bar", "1.0")
    assert solve(u, "foo[fast]", "bar<2") == {"foo": "1.0", "bar": "1.0"}
    assert solve(u, "foo") == {"foo": "2.0"}


def test_markers_are_evaluated_for_the_target() -> None:
    u = Universe()
    u.add("app", "1.0", ["winonly; sys_platform == 'win32'", "old; python_version < '3.10'"])
    u.add("winonly", "1.0")
    u.add("old", "1.0")
    windows = TargetEnvironment.for_target("3.9", "windows")
    assert solve(u, "app", env=windows) == {"app": "1.0", "winonly": "1.0", "old": "1.0"}
    assert solve(u, "app", env=linux("3.12")) == {"app": "1.0"}


def test_wheel_tags_must_match_the_target() -> None:
    u = Universe()
    u.add("native", "2.0", tag="cp312-cp312-win_amd64")
    u.add("native", "1.0", tag="cp312-cp312-manylinux_2_17_x86_64")
    assert solve(u, "native") == {"native": "1.0"}
    assert solve(u, "native", env=TargetEnvironment.for_target("3.12", "windows")) == {
        "native": "2.0"
    }


def test_wheels_are_preferred_over_sdists() -> None:
    u = Universe()
    u.add("foo", "1.0", tag=None)
    wheel = u.add("foo", "1.0")
    result = resolve([Requirement("foo")], u, env=linux())
    assert result.packages["foo"].file == wheel


def test_requires_python_of_candidates_is_honoured() -> None:
    u = Universe()
    u.add("foo", "2.0", requires_python=">=3.13")
    u.add("foo", "1.5", file_requires_python=">=3.13")
    u.add("foo", "1.0", requires_python=">=3.8")
    assert solve(u, "foo", env=linux("3.12")) == {"foo": "1.0"}
    with pytest.raises(ResolutionError) as info:
        solve(u, "foo>=2", env=linux("3.12"))
    assert "requires Python >=3.13 (the target Python is 3.12.0)" in info.value.explanation


def test_constraints_limit_versions_without_adding_packages() -> None:
    u = Universe()
    u.add("foo", "1.0")
    u.add("foo", "2.0")
    u.add("unused", "1.0")
    constraints = [Requirement("foo<2"), Requirement("unused==1.0")]
    assert solve(u, "foo", constraints=constraints) == {"foo": "1.0"}


def test_overrides_replace_requirements_of_dependencies() -> None:
    u = Universe()
    u.add("app", "1.0", ["foo<2"])
    u.add("foo", "1.0")
    u.add("foo", "2.0")
    assert solve(u, "app", overrides=[Requirement("foo>=2")]) == {"app": "1.0", "foo": "2.0"}


def test_resolution_records_dependency_edges() -> None:
    u = Universe()
    u.add("app", "1.0", ["foo", "bar"])
    u.add("foo", "1.0", ["bar"])
    u.add("bar", "1.0")
    result = resolve([Requirement("app")], u, env=linux())
    assert result.requirers("bar") == ["app", "foo"]
    assert result.requires(None) == ["app"]


def test_a_package_missing_from_the_index_is_named() -> None:
    u = Universe()
    with pytest.raises(ResolutionError) as info:
        solve(u, "nothere")
    assert info.value.explanation == (
        "Because nothere was not found in the package index and you require nothere, "
        "we can conclude that your requirements are unsatisfiable."
    )


def test_synthetic_graph_of_200_packages_resolves() -> None:
    u = Universe()
    for index in range(200):
        for minor in range(5):
            deps = [f"pkg{j}>=1.{minor % 3}" for j in (index + 1, index + 7) if j < 200]
            u.add(f"pkg{index}", f"1.{minor}", deps)
    result = solve(u, *(f"pkg{i}" for i in range(0, 200, 20)), concurrency=4)
    assert len(result) == 200
    assert result["pkg0"] == "1.4"


class _OrderedUniverse(Universe):
    """A source that states its own version preference, as the index client does for
    ``unsafe-first-match`` (the first index's versions before a later index's)."""

    def __init__(self, order: list[str]) -> None:
        super().__init__()
        self.order = order

    def version_order(self, name: str, versions: object = None) -> list[object]:
        from packaging.version import Version

        return [Version(v) for v in self.order]


def test_source_version_order_wins_over_highest_version() -> None:
    u = _OrderedUniverse(order=["1.0", "2.0"])  # e.g. 1.0 on the first index, 2.0 on a later one
    u.add("pkg", "1.0")
    u.add("pkg", "2.0")
    assert solve(u, "pkg") == {"pkg": "1.0"}
    assert solve(u, "pkg>1") == {"pkg": "2.0"}


def test_without_a_stated_order_the_highest_version_is_chosen() -> None:
    u = Universe()
    u.add("pkg", "1.0")
    u.add("pkg", "2.0")
    assert solve(u, "pkg") == {"pkg": "2.0"}


def test_exact_pins_narrow_the_files_asked_for() -> None:
    from packaging.specifiers import SpecifierSet

    u = Universe()
    for version in ("1.0", "1.0+cpu", "2.0"):
        u.add("pinned", version)
    u.add("ranged", "1.0", requires=["dep==1.0"])
    u.add("ranged", "2.0", requires=["dep==1.0"])
    u.add("dep", "1.0")
    u.add("dep", "2.0")
    assert solve(u, "pinned==1.0", "ranged>=1") == {
        "pinned": "1.0+cpu", "ranged": "2.0", "dep": "1.0"}
    # A root pin means no other version can be chosen: only its files are needed
    # (``==1.0`` still admits the local version ``1.0+cpu``).
    assert u.narrowing["pinned"] == SpecifierSet("==1.0")
    # A range, and a pin made by a dependency (not known before resolving), narrow nothing.
    assert u.narrowing["ranged"] is None
    assert u.narrowing["dep"] is None


def test_constraint_pins_narrow_but_overridden_packages_do_not() -> None:
    from packaging.requirements import Requirement
    from packaging.specifiers import SpecifierSet

    u = Universe()
    u.add("a", "1.0")
    u.add("a", "2.0")
    u.add("b", "1.0")
    u.add("b", "2.0")
    result = solve(
        u, "a", "b==1.0",
        constraints=[Requirement("a==1.0")], overrides=[Requirement("b==2.0")],
    )
    assert result == {"a": "1.0", "b": "2.0"}
    assert u.narrowing["a"] == SpecifierSet("==1.0")
    assert u.narrowing["b"] is None  # the override replaces the root pin


def test_failure_with_a_narrowed_pin_still_explains_against_every_version() -> None:
    from kiln.core.resolver.errors import ResolutionError

    u = Universe()
    u.add("pkg", "1.0")
    u.add("pkg", "2.0")
    with pytest.raises(ResolutionError) as caught:
        solve(u, "pkg==3.0")
    message = str(caught.value)
    assert "there is no version of pkg==3.0" in message
    assert "was not found" not in message  # pkg exists, only not in that version
    assert u.narrowing["pkg"] is None  # the explanation looked at every version
