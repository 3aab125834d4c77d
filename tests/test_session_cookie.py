from access.session_cookie import issue, session_keys, verify, verify_any

KEY = b"k" * 32


def test_a_fresh_cookie_verifies_until_it_expires():
    value = issue(KEY, 1000.0, 60)
    assert verify(KEY, value, 1000.0)
    assert verify(KEY, value, 1059.0)
    assert not verify(KEY, value, 1060.0)


def test_two_cookies_differ_by_their_nonce():
    assert issue(KEY, 1000.0, 60) != issue(KEY, 1000.0, 60)


def test_a_tampered_cookie_is_refused():
    value = issue(KEY, 1000.0, 60)
    expires, nonce, signature = value.split(".")
    assert not verify(KEY, f"{int(expires) + 3600}.{nonce}.{signature}", 1000.0)
    assert not verify(KEY, f"{expires}.{nonce}A.{signature}", 1000.0)
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]
    assert not verify(KEY, f"{expires}.{nonce}.{flipped}", 1000.0)


def test_a_wrong_key_is_refused():
    assert not verify(b"x" * 32, issue(KEY, 1000.0, 60), 1000.0)


def test_garbage_is_refused():
    for value in ["", "a.b", "x.y.z", "1.2.3.4", "1.!!.%%", "é.a.b", "1." + "a" * 300 + ".b"]:
        assert not verify(KEY, value, 0.0)


def test_keys_follow_the_secret_and_an_older_key_still_verifies():
    old, = session_keys("old-secret")
    value = issue(old, 1000.0, 60)
    current = session_keys("new-secret, old-secret")
    assert current[0] != old and current[1] == old
    assert verify_any(current, value, 1000.0)
    assert not verify_any(session_keys("new-secret"), value, 1000.0)
