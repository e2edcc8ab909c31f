"""Small-number suppression for survey reports (PRODUCT.md, "Surveys").

A group with fewer responses than the threshold (default 5) shows no figures. That alone is
not enough: if a department's total is shown beside its cohorts, one hidden cohort can be
worked out by subtraction. So among sibling groups whose parent total is shown, the hidden
ones together must also reach the threshold: while they do not, the smallest shown sibling is
hidden too. If even all of them together fall short, the parent is hidden as well.
"""

from collections.abc import Hashable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Suppressed:
    """Which sibling groups to hide, and whether their parent total must be hidden too."""

    hidden: frozenset
    parent_hidden: bool


def suppress(counts: Mapping[Hashable, int], minimum: int) -> Suppressed:
    """Sibling groups' response counts → the groups whose figures must be hidden so that no
    hidden group, alone or added up with the other hidden ones, is below `minimum` and can be
    worked out from the parent total. Groups with no responses have nothing to hide."""
    hidden = {key for key, n in counts.items() if 0 < n < minimum}
    shown = sorted((n, str(key), key) for key, n in counts.items() if key not in hidden and n > 0)
    while hidden and sum(counts[key] for key in hidden) < minimum and shown:
        hidden.add(shown.pop(0)[2])
    total = sum(counts.values())
    parent_hidden = 0 < total < minimum
    return Suppressed(frozenset(hidden), parent_hidden)
