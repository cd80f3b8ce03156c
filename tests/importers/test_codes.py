import json

import pytest

from importers.codes import InvalidCode, check_digit, is_valid_code6, to_code6
from tests.support.paths import PROJECT

MASTER = PROJECT / "data" / "seed" / "code-to-city.json"


def all_codes() -> list[str]:
    master = json.loads(MASTER.read_text("utf-8"))
    return [city["code"] for pref in master.values() for city in pref["cities"].values()]


def test_every_code_of_the_national_master_has_a_valid_check_digit():
    codes = all_codes()
    assert len(codes) == 1965
    assert all(is_valid_code6(code) for code in codes)


def test_check_digit_of_known_codes():
    assert check_digit("27202") == "7"  # 岸和田市 272027
    assert check_digit("27214") == "1"  # sum ≡ 0 (mod 11) gives 1, not 0: 富田林市 272141
    assert check_digit("27000") == "8"  # 大阪府 270008


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("272027", "272027"),
        ("27202", "272027"),  # KSJ / GSI 5-digit form
        (27202, "272027"),
        ("２７２０２", "272027"),  # full-width digits
        ("272027.0", "272027"),  # a spreadsheet float
        ("92011", "092011"),  # Excel dropped the leading zero of 092011
        ("1100", "011002"),  # a 5-digit code that lost its leading zero
        (" 27100 ", "271004"),
    ],
)
def test_to_code6_normalises_real_variants(value, expected):
    assert to_code6(value) == expected


@pytest.mark.parametrize("value", ["272028", "abc", "", "1234567", "99999", "272-027"])
def test_to_code6_refuses_what_is_not_a_code(value):
    with pytest.raises(InvalidCode):
        to_code6(value)


def test_known_codes_resolve_an_ambiguous_five_digit_value():
    # "27202" is 272027 (KSJ form) or 027202 (a 6-digit code that lost its zero) if that were valid;
    # a set of known codes decides.
    assert to_code6("27202", known={"272027"}) == "272027"
    with pytest.raises(InvalidCode):
        to_code6("27202", known={"131016"})
