import pytest

from lib.hosts import is_address


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("10.0.0.7", True),
        ("::1", True),
        ("[::1]", True),
        ("[2001:db8::5]", True),
        ("localhost", False),
        ("clinic.example", False),
        ("1.example", False),
        ("127.0.0", False),
        ("", False),
    ],
)
def test_a_number_is_told_from_a_name(host: str, expected: bool) -> None:
    assert is_address(host) is expected
