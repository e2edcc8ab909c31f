"""Small-number suppression: at the threshold's edges, and through subtraction across siblings."""

from hypothesis import given
from hypothesis import strategies as st

from preceptor.services.suppression import suppress


def test_the_threshold_edges():
    assert suppress({"a": 4, "b": 9, "c": 9}, 5).hidden >= {"a"}
    assert suppress({"a": 5, "b": 9}, 5).hidden == frozenset()
    assert suppress({"a": 6, "b": 9}, 5).hidden == frozenset()
    assert suppress({"a": 0, "b": 9}, 5).hidden == frozenset()  # nobody: nothing to hide


def test_one_small_group_takes_the_next_smallest_with_it():
    # Shown: the total 4 + 6 + 20 = 30. Hiding only "a" would leave 30 - 6 - 20 = 4.
    assert suppress({"a": 4, "b": 6, "c": 20}, 5).hidden == {"a", "b"}


def test_two_small_groups_that_add_up_to_too_few_take_a_third():
    assert suppress({"a": 1, "b": 2, "c": 7, "d": 30}, 5).hidden == {"a", "b", "c"}
    assert suppress({"a": 2, "b": 3, "c": 30}, 5).hidden == {"a", "b"}  # together 5: enough


def test_a_parent_below_the_threshold_is_hidden_too():
    result = suppress({"a": 1, "b": 2}, 5)
    assert result.hidden == {"a", "b"} and result.parent_hidden


@given(st.dictionaries(st.integers(0, 6), st.integers(0, 12), min_size=1, max_size=7), st.integers(2, 6))
def test_no_hidden_group_can_be_worked_out(counts, minimum):
    result = suppress(counts, minimum)
    hidden_total = sum(counts[key] for key in result.hidden)
    for key, n in counts.items():
        if 0 < n < minimum:
            assert key in result.hidden  # every small group is hidden
    # What subtraction from a shown parent reveals is the hidden groups together: never a small number.
    if not result.parent_hidden:
        assert hidden_total == 0 or hidden_total >= minimum
