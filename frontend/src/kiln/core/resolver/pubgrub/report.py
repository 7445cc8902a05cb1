"""Turn the derivation tree of a failed solve into numbered English sentences.

Each derived incompatibility is explained from its two causes. Sub-derivations that
are used more than once get a line number, e.g. ``(1)``, and later lines refer to it
instead of repeating the argument.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, Protocol, TypeVar

from kiln.core.resolver.pubgrub.incompatibility import (
    DependencyCause,
    DerivedCause,
    Incompatibility,
    NoVersionsCause,
    RootCause,
    UnavailableCause,
)
from kiln.core.resolver.pubgrub.ranges import Comparable, Range
from kiln.core.resolver.pubgrub.term import Term

P = TypeVar("P", bound=Hashable)
P_contra = TypeVar("P_contra", bound=Hashable, contravariant=True)
V = TypeVar("V", bound=Comparable)


class TermFormatter(Protocol[P_contra, V]):
    """How packages and version sets read in an explanation."""

    def is_root(self, package: P_contra) -> bool: ...

    def describe(self, package: P_contra, versions: Range[V], *, subject: bool) -> str:
        """``foo>=1,<2``; for all versions ``all versions of foo`` (subject) or ``foo``."""
        ...

    def no_versions(self, package: P_contra, versions: Range[V]) -> str:
        """Why nothing in ``versions`` exists, e.g. ``there is no version of foo>=2``."""
        ...

    def is_gap(self, package: P_contra, versions: Range[V]) -> bool:
        """True when ``versions`` holds no known version, so "no version" is not news."""
        ...


_PLURAL = {"was": "were", "is": "are", "has": "have", "requires": "require"}


def _verb(subject: str, singular: str, plural: str) -> str:
    return plural if subject.startswith("all versions of") else singular


class _Reporter(Generic[P, V]):
    def __init__(self, formatter: TermFormatter[P, V]) -> None:
        self.formatter = formatter
        self.lines: list[str] = []
        self.refs: dict[int, int] = {}  # id(incompatibility) -> line number
        self.shared: set[int] = set()
        self.count = 0

    # -- phrases ------------------------------------------------------------------------------

    def term(self, term: Term[P, V], *, subject: bool = False) -> str:
        return self.formatter.describe(term.package, term.versions, subject=subject)

    def external(self, incompatibility: Incompatibility[P, V]) -> str:
        cause = incompatibility.cause
        terms = incompatibility.terms
        if isinstance(cause, NoVersionsCause):
            return self.formatter.no_versions(terms[0].package, terms[0].versions)
        if isinstance(cause, UnavailableCause):
            subject = self.term(terms[0], subject=True)
            reason = cause.reason
            if subject.startswith("all versions of"):
                verb, _, rest = reason.partition(" ")
                reason = f"{_PLURAL.get(verb, verb)} {rest}"
            return f"{subject} {reason}"
        if isinstance(cause, DependencyCause) and len(terms) == 2:
            depender, dependency = sorted(terms, key=lambda t: not t.positive)
            if self.formatter.is_root(depender.package):
                return f"you require {self.term(dependency)}"
            subject = self.term(depender, subject=True)
            return f"{subject} {_verb(subject, 'depends', 'depend')} on {self.term(dependency)}"
        if isinstance(cause, RootCause):
            return "the root package is required"
        return self.conclusion(incompatibility)

    def conclusion(self, incompatibility: Incompatibility[P, V]) -> str:
        terms = [
            t
            for t in incompatibility.terms
            if not (t.positive and self.formatter.is_root(t.package))
        ]
        if not terms:
            return "your requirements are unsatisfiable"
        positive = [t for t in terms if t.positive]
        negative = [t for t in terms if not t.positive]
        if not negative:
            if len(positive) == 1:
                subject = self.term(positive[0], subject=True)
                return f"{subject} cannot be used"
            return " and ".join(self.term(t) for t in positive) + " are incompatible"
        required = " or ".join(self.term(t) for t in negative)
        if not positive:
            return f"you require {required}"
        if len(positive) == 1:
            subject = self.term(positive[0], subject=True)
            return f"{subject} {_verb(subject, 'depends', 'depend')} on {required}"
        return " and ".join(self.term(t) for t in positive) + f" together depend on {required}"

    def ref(self, incompatibility: Incompatibility[P, V]) -> int | None:
        return self.refs.get(id(incompatibility))

    def with_ref(self, incompatibility: Incompatibility[P, V]) -> str:
        return f"{self.conclusion(incompatibility)} ({self.refs[id(incompatibility)]})"

    # -- traversal ----------------------------------------------------------------------------

    def count_shared(self, root: Incompatibility[P, V]) -> None:
        seen: set[int] = set()
        stack = [root]
        while stack:
            current = stack.pop()
            cause = current.cause
            if not isinstance(cause, DerivedCause):
                continue
            for child in (cause.left, cause.right):
                if not child.is_derived:
                    continue
                if id(child) in seen:
                    self.shared.add(id(child))
                else:
                    seen.add(id(child))
                    stack.append(child)

    def add_ref(self, incompatibility: Incompatibility[P, V]) -> None:
        self.count += 1
        self.refs[id(incompatibility)] = self.count
        self.lines[-1] = f"{self.lines[-1]} ({self.count})"

    def visit(self, incompatibility: Incompatibility[P, V]) -> None:
        self.visit_inner(incompatibility)
        if id(incompatibility) in self.shared and id(incompatibility) not in self.refs:
            self.add_ref(incompatibility)

    def visit_inner(self, current: Incompatibility[P, V]) -> None:
        cause = current.cause
        assert isinstance(cause, DerivedCause)
        left: Incompatibility[P, V] = cause.left
        right: Incompatibility[P, V] = cause.right
        conclusion = self.conclusion(current)
        if left.is_derived and right.is_derived:
            left_ref, right_ref = self.ref(left), self.ref(right)
            if left_ref is not None and right_ref is not None:
                self.lines.append(
                    f"Because {self.with_ref(left)} and {self.with_ref(right)}, "
                    f"we can conclude that {conclusion}."
                )
            elif left_ref is not None or right_ref is not None:
                known, other = (left, right) if left_ref is not None else (right, left)
                self.visit(other)
                self.lines.append(
                    f"And because {self.with_ref(known)}, we can conclude that {conclusion}."
                )
            else:
                self.visit(left)
                if self.ref(left) is not None:
                    self.lines.append("")
                    self.visit_inner(current)
                else:
                    self.add_ref(left)
                    self.lines.append("")
                    self.visit(right)
                    self.lines.append(
                        f"And because {self.with_ref(left)}, we can conclude that {conclusion}."
                    )
        elif left.is_derived or right.is_derived:
            derived, external = (left, right) if left.is_derived else (right, left)
            derived_ref = self.ref(derived)
            if derived_ref is not None:
                self.lines.append(
                    f"Because {self.with_ref(derived)} and {self.external(external)}, "
                    f"we can conclude that {conclusion}."
                )
                return
            inner = derived.cause
            assert isinstance(inner, DerivedCause)
            if inner.left.is_derived != inner.right.is_derived and id(derived) not in self.shared:
                prior, prior_external = (
                    (inner.left, inner.right) if inner.left.is_derived else (inner.right, inner.left)
                )
                self.visit(prior)
                self.lines.append(
                    f"And because {self.external(prior_external)} and "
                    f"{self.external(external)}, we can conclude that {conclusion}."
                )
            else:
                self.visit(derived)
                self.lines.append(
                    f"And because {self.external(external)}, we can conclude that {conclusion}."
                )
        else:
            self.lines.append(
                f"Because {self.external(left)} and {self.external(right)}, "
                f"we can conclude that {conclusion}."
            )


def _collapse_gaps(
    incompatibility: Incompatibility[P, V],
    formatter: TermFormatter[P, V],
    memo: dict[int, Incompatibility[P, V]],
) -> Incompatibility[P, V]:
    """Drop derivation steps that only widen a term over versions that do not exist.

    "foo==1.0 depends on bar" plus "there is no version of foo>1.0,<2" reads better as
    "foo>=1.0,<2 depends on bar": the gap adds nothing a reader needs.
    """
    cause = incompatibility.cause
    if not isinstance(cause, DerivedCause):
        return incompatibility
    done = memo.get(id(incompatibility))
    if done is not None:
        return done
    left = _collapse_gaps(cause.left, formatter, memo)
    right = _collapse_gaps(cause.right, formatter, memo)
    result: Incompatibility[P, V] | None = None
    for other, gap in ((left, right), (right, left)):
        if not isinstance(gap.cause, NoVersionsCause):
            continue
        gap_term = gap.terms[0]
        if not formatter.is_gap(gap_term.package, gap_term.versions):
            continue
        same = other.term_for(gap_term.package)
        if same is not None and same.positive and not isinstance(other.cause, RootCause):
            result = Incompatibility(incompatibility.terms, other.cause)
            break
    if result is None:
        if left is cause.left and right is cause.right:
            result = incompatibility
        else:
            result = Incompatibility(incompatibility.terms, DerivedCause(left, right))
    memo[id(incompatibility)] = result
    return result


def explain(incompatibility: Incompatibility[P, V], formatter: TermFormatter[P, V]) -> str:
    """A human-readable proof that ``incompatibility`` holds."""
    reporter: _Reporter[P, V] = _Reporter(formatter)
    incompatibility = _collapse_gaps(incompatibility, formatter, {})
    if not incompatibility.is_derived:
        return (
            f"Because {reporter.external(incompatibility)}, we can conclude that "
            f"{reporter.conclusion(incompatibility)}."
        )
    reporter.count_shared(incompatibility)
    reporter.visit(incompatibility)
    return "\n".join(reporter.lines)
