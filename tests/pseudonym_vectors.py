"""Expected PESEL pseudonyms as literals, from an independent source (issue 14, item 2).

HMAC-SHA256(key, the 11 PESEL digits as ASCII), hex, first 32 characters (core/pesel.py), computed
outside the code under test with OpenSSL, e.g.
    printf 80051710121 | openssl dgst -sha256 -hmac test-key-not-secret
    -> 207dec62e595cc77eaf1b4c4ae4dc2a7473762e529b48edeffea7854d39da550
The tests compare the warehouse's person_key with these strings, never with core.pesel.pseudonym().
"""

# key b"test-key-not-secret" (tests/conftest.py TEST_KEY)
PESEL_A_KEY = "207dec62e595cc77eaf1b4c4ae4dc2a7"        # 80051710121 (tests/validation_fixtures.py PESEL_A)
PESEL_B_KEY = "3d3c00c04522cf22a00fe5051208f57f"        # 75020320250 (PESEL_B)
PESEL_CHILD_KEY = "a4238d38313cda6c893c8553622862eb"    # 05231440485 (PESEL_CHILD)
# key b"test-key" (tests/test_raw_ingest.py KEY)
CHILD_KEY = "24cd08e795f14606f9072c2b41483be7"          # 05231412365
ADULT_KEY = "8267c3763254ef92e3bb7673c96a8756"          # 90013178982
SENIOR_KEY = "3f65e913d5013dbb8dbca8024087ada6"         # 48110245632
