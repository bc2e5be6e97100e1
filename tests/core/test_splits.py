from collections import Counter

import pytest

from builder.core.splits import SplitSpec
from builder.errors import UsageError


def test_assignment_is_a_pure_function_of_the_group_key():
    spec = SplitSpec()
    assert spec.assign("venezuela-2019-guaido-military") == "train"
    assert [spec.assign(f"story-{i}") for i in range(8)] == [
        spec.assign(f"story-{i}") for i in range(8)
    ]


def test_shares_are_respected_on_many_keys():
    counts = Counter(SplitSpec().assign(f"story-{i}") for i in range(10_000))
    assert 7800 < counts["train"] < 8200
    assert 900 < counts["validation"] < 1100 and 900 < counts["test"] < 1100


def test_adding_keys_never_moves_existing_ones():
    spec = SplitSpec()
    before = {f"s{i}": spec.assign(f"s{i}") for i in range(100)}
    after = {f"s{i}": spec.assign(f"s{i}") for i in range(200)}
    assert all(after[k] == v for k, v in before.items())


def test_parse():
    assert SplitSpec.parse("train=90,test=10").shares == (("train", 90), ("test", 10))


@pytest.mark.parametrize("bad", ["train=90", "train=50,test=60", "dev=100", "train", "train=x"])
def test_bad_split_specs_are_usage_errors(bad: str):
    with pytest.raises(UsageError) as err:
        SplitSpec.parse(bad)
    assert "train=80,validation=10,test=10" in err.value.problems[0].expected
