"""Monitors as code: a YAML file is applied whole, or refused whole with a message."""

import pytest

from config.monitors_file import InvalidMonitorsFile, parse_monitors_file
from storage.monitors import list_monitors, save_monitors_file

GOOD = """
monitors:
  - name: API
    url: https://api.example.com/health
    interval: 60
    public: true
  - name: Shop
    url: http://shop.example.com/
"""


def test_it_creates_then_updates_by_name() -> None:
    assert save_monitors_file(parse_monitors_file(GOOD)) == (2, 0)
    changed = GOOD.replace("interval: 60", "interval: 120")
    assert save_monitors_file(parse_monitors_file(changed)) == (0, 2)
    monitors = {m.name: m for m in list_monitors()}
    assert monitors["API"].interval == 120 and monitors["API"].public
    assert len(monitors) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("monitors: [\n  - name: a\n   url: x", "not valid YAML at line"),
        ("monitors:\n  - name: A\n    url: ftp://x", "monitors[0].url:"),
        ("monitors:\n  - name: A\n    url: http://a/\n    interval: 5", "monitors[0].interval:"),
        ("monitors:\n  - name: A\n    url: http://a/\n  - name: A\n    url: http://b/",
         "monitors[1].name: 'A' appears twice"),
        ("monitors:\n  - just a string", "monitors[0]: each monitor is a mapping"),
        ("name: A", "a list under 'monitors:'"),
    ],
)
def test_a_bad_file_is_refused_with_where_and_what(text: str, message: str) -> None:
    with pytest.raises(InvalidMonitorsFile) as refused:
        parse_monitors_file(text)
    assert message in str(refused.value)


def test_one_bad_entry_applies_nothing() -> None:
    bad = GOOD + "  - name: Broken\n    url: nope\n"
    with pytest.raises(InvalidMonitorsFile):
        save_monitors_file(parse_monitors_file(bad))
    assert list_monitors() == []


def test_tags_and_runbook_are_applied_from_the_file() -> None:
    text = ("monitors:\n  - name: API\n    url: https://api.example/\n"
            "    tags: [prod, api]\n    runbook_url: https://wiki.example/rb\n"
            "  - name: Web\n    url: https://web.example/\n    tags: 'edge, web'\n")
    assert save_monitors_file(parse_monitors_file(text)) == (2, 0)
    by_name = {m.name: m for m in list_monitors()}
    assert list(by_name["API"].tags) == ["prod", "api"]
    assert by_name["API"].runbook_url == "https://wiki.example/rb"
    assert list(by_name["Web"].tags) == ["edge", "web"]
    assert by_name["Web"].runbook_url is None
    cleared = text.replace("    runbook_url: https://wiki.example/rb\n", "    runbook_url: ''\n")
    assert save_monitors_file(parse_monitors_file(cleared)) == (0, 2)
    assert {m.name: m for m in list_monitors()}["API"].runbook_url is None


def test_a_bad_runbook_in_the_file_is_refused() -> None:
    text = "monitors:\n  - name: API\n    url: https://api.example/\n    runbook_url: ftp://x/\n"
    with pytest.raises(InvalidMonitorsFile, match="runbook_url"):
        parse_monitors_file(text)


def test_pem_options_take_a_path_beside_the_file_or_the_pem_itself(tmp_path) -> None:
    import trustme

    from config.monitors_file import load_monitors_file

    ca = trustme.CA()
    (tmp_path / "certs").mkdir()
    ca.cert_pem.write_to_path(str(tmp_path / "certs" / "ca.pem"))
    inline = ca.cert_pem.bytes().decode().replace("\n", "\n        ")
    (tmp_path / "monitors.yaml").write_text(f"""
monitors:
  - name: By path
    url: https://intranet.test/
    options: {{ca_bundle: certs/ca.pem, ip_version: ipv4}}
  - name: Inline
    kind: tls
    url: intranet.test:443
    options:
      ca_bundle: |
        {inline}
""")
    loaded = {spec.name: spec for spec, _ in load_monitors_file(
        str(tmp_path / "monitors.yaml")).entries}
    expected = ca.cert_pem.bytes().decode().strip()
    assert loaded["By path"].options["ca_bundle"] == expected
    assert loaded["By path"].options["ip_version"] == "ipv4"
    assert loaded["Inline"].options["ca_bundle"] == expected


def test_a_pem_path_that_cannot_be_read_is_refused_naming_it(tmp_path) -> None:
    text = "monitors:\n  - name: A\n    url: https://a.test/\n    options:\n" \
        "      client_key: missing/key.pem\n"
    with pytest.raises(InvalidMonitorsFile) as refused:
        parse_monitors_file(text, tmp_path)
    assert "monitors[0].options.client_key: cannot read missing/key.pem" in str(refused.value)
