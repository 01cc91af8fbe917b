"""The PESEL pseudonym against fixed HMAC-SHA256 test vectors (issue 14, item 2)."""

from pseudonym_vectors import PESEL_A_KEY, SENIOR_KEY

from core.pesel import pseudonym

# RFC 4231 test case 2: HMAC-SHA256(key "Jefe", "what do ya want for nothing?")
RFC4231_CASE_2 = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"


def test_pseudonym_is_the_keyed_hmac_sha256_of_the_digits_cut_to_32_hex_characters():
    assert pseudonym("80051710121", b"test-key-not-secret") == PESEL_A_KEY
    assert pseudonym("48110245632", b"test-key") == SENIOR_KEY


def test_pseudonym_follows_the_rfc_4231_vector():
    # not a PESEL, but the same function: the published vector, cut to 32 characters
    assert pseudonym("what do ya want for nothing?", b"Jefe") == RFC4231_CASE_2[:32]


def test_pseudonym_depends_on_the_secret_and_on_every_digit():
    assert pseudonym("80051710121", b"another-key") != PESEL_A_KEY
    assert pseudonym("80051710122", b"test-key-not-secret") != PESEL_A_KEY
