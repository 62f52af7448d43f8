"""PII redaction: e-mails and public IPv4/IPv6 replaced and counted; private and look-alikes kept."""

from __future__ import annotations

from collections import Counter

from pipeline.filters.base import rewrite_kept
from pipeline.filters.pii import PiiFilter, PiiOptions
from tests.pipeline.filters.support import evaluate, verdict


def redact(text: str, **options) -> tuple[str, Counter]:
    counts: Counter = Counter()
    return PiiFilter(PiiOptions(**options)).rewrite(text, counts), counts


def test_emails_and_public_ips_are_redacted_and_counted():
    text = ("Write to jane.doe+news@mail.example.co.uk or ops@example.org. Server 8.8.8.8 and "
            "2001:4860:4860::8888 answered.")
    out, counts = redact(text)
    assert out == "Write to [EMAIL] or [EMAIL]. Server [IP] and [IP] answered."
    assert counts == Counter(email=2, ipv4=1, ipv6=1)


def test_private_addresses_and_lookalikes_stay():
    text = ("Router 192.168.1.1, loopback 127.0.0.1 and ::1, link fe80::1, docs 192.0.2.1, "
            "version 1.2.3.4.5, time 10:30:45, ratio 3:4, not an address 999.1.1.1, user @handle.")
    assert redact(text) == (text, Counter())


def test_redaction_never_removes_and_counts_are_signals():
    text = "Mail me at a@b.io from 1.1.1.1."
    assert verdict("pii", text) is None
    table, _ = evaluate({"pii": {}}, [text])
    assert (table["pii.emails"][0].as_py(), table["pii.ipv4"][0].as_py()) == (1, 1)


def test_only_the_chosen_kinds():
    out, counts = redact("a@b.io 1.1.1.1", redact=["ipv4"], ip_replacement="<ip>")
    assert out == "a@b.io <ip>" and counts == Counter(ipv4=1)


def test_ips_are_redacted_in_a_text_without_emails():
    # a kind with no match must not end the redaction of the kinds after it
    assert redact("Resolver 8.8.8.8 and 2001:4860:4860::8888 only.") == (
        "Resolver [IP] and [IP] only.", Counter(ipv4=1, ipv6=1))


def test_full_form_ipv6_without_a_double_colon():
    # eight groups, no "::": the cheap gate must still let the scan run (seven colons)
    out, counts = redact("Host 2607:f8b0:4005:0805:0000:0000:0000:200e answered.")
    assert out == "Host [IP] answered." and counts == Counter(ipv6=1)


def test_ipv6_with_an_ipv4_tail_is_redacted_whole():
    # six colons before the dotted tail (no "::"), and a "::" form: neither leaves its first groups behind
    assert redact("Host 2a00:1450:0:0:0:0:8.8.8.8 answered.") == ("Host [IP] answered.", Counter(ipv6=1))
    out, counts = redact("Host 64:ff9b::1.1.1.1 answered; IP:9.9.9.9 too.")
    assert out == "Host [IP] answered; IP:[IP] too." and counts == Counter(ipv6=1, ipv4=1)


def test_the_chain_redacts_kept_documents_and_counts_per_source():
    counts: Counter = Counter()
    texts = rewrite_kept([PiiFilter(PiiOptions())], ["Mail a@b.io now.", "Nothing here."], counts, "web")
    assert texts == ["Mail [EMAIL] now.", "Nothing here."]
    assert counts == Counter({"rewritten.web.pii.email": 1})


def test_ipv4_pattern_starting_at_its_digit_finds_what_the_look_behind_form_finds():
    # IPV4 starts with a digit so the regex engine skips to digits; the reference starts with the
    # look-behind: the same matches on random strings of digits, dots, word characters and separators
    import random
    import re

    from pipeline.filters.pii import IPV4

    reference = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)")
    rng = random.Random(4)
    matched = 0
    for _ in range(50_000):
        text = "".join(rng.choice("0123456789....a_ 中:١") for _ in range(rng.randrange(1, 30)))
        expected = [(m.span(), m.group()) for m in reference.finditer(text)]
        assert [(m.span(), m.group()) for m in IPV4.finditer(text)] == expected, text
        matched += bool(expected)
    assert matched > 100
