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


def _reference(text: str, kind: str) -> list[tuple[tuple[int, int], str]]:
    """What ``find`` gave before the seeds (issue 19): every match of the pattern's own scan, filtered."""
    from pipeline.filters.pii import EMAIL, IPV4, IPV6, _public_ip

    pattern = {"email": EMAIL, "ipv4": IPV4, "ipv6": IPV6}[kind]
    return [(m.span(), m.group()) for m in pattern.finditer(text) if kind == "email" or _public_ip(m.group())]


def _found(text: str, kind: str) -> list[tuple[tuple[int, int], str]]:
    from pipeline.filters.pii import find

    return [(m.span(), m.group()) for m in find(text, kind)]


def test_seeded_scans_find_what_the_patterns_find_on_random_text():
    # find() tries each pattern only at the start of the run before a seed ("@", a dotted triple, a colon
    # pair): the same matches as the pattern's own scan, also where runs are too long, where a seed lies
    # inside an earlier one, and with characters \d or \w match beyond ASCII (Arabic-Indic digits, letters)
    import random

    from pipeline.filters.pii import EMAIL, IPV4, IPV6, _seeded, _EMAIL_SEED, _IPV4_SEED, _IPV6_SEED, \
        _HEX, _digit, _local

    rng = random.Random(19)
    pieces = {"ipv4": ["8", "93", "1", "234", "1234", "8.8", "9.184.", ".", ".", ".", "x", "_", " ", " ", "-", ":", "中",
                       "١"],
              "ipv6": ["2a00", "4860", "8", "f", "12345", ":", ":", ":", "::", ".", "g", " ", "(", "中", "١"],
              "email": ["ab", "8", "_", ".", "%+-", "@", "@", " ", "中", "é", ":", "x.io", "-", "ZZ"]}
    scans = {"ipv4": (IPV4, _IPV4_SEED, _digit, 3), "ipv6": (IPV6, _IPV6_SEED, _HEX.__contains__, 4),
             "email": (EMAIL, _EMAIL_SEED, _local, 64)}
    for kind, alphabet in pieces.items():
        pattern, seeds, in_run, longest = scans[kind]
        redacted = 0
        for _ in range(30_000):
            text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30)))
            if kind == "email" and rng.random() < 0.1:  # local parts near the 64-character limit
                text = "a" * rng.randrange(60, 68) + text
            assert [(m.span(), m.group()) for m in _seeded(pattern, seeds, in_run, longest, text)] == [
                (m.span(), m.group()) for m in pattern.finditer(text)], (kind, text)
            expected = _reference(text, kind)
            assert _found(text, kind) == expected, (kind, text)
            redacted += bool(expected)
        assert redacted > 100, kind  # the alphabets make public addresses and e-mails, not only misses


def test_seeded_scans_at_the_edges():
    cases = {
        "ipv4": ["8.8.8.8 first", "-8.8.8.8", "123.8.8.8", "x8.8.8.8", "1234.8.8.8.8", "8.8.8.8,1.1.1.1", "1.1.1.1.1 8.8.8.8",
                 "v1.2.3.4.5 and 9.9.9.9", "٨.٨.٨.٨ and ٨٨٨٨.8.8.8.8", "ends 8.8.8.8"],
        "ipv6": ["2001:4860:4860::8888 first", "(2001:4860:4860::8888)", "x2001:4860:4860::8888",
                 "12345::1:2:3:4:5:6 and ::ffff:8.8.8.8 and 2001:db8::1", "a:b:c:d:e:f:1:2 10:30:45:12:00:00",
                 "64:ff9b::1.1.1.1 end"],
        "email": ["a" * 64 + "@example.org", "a" * 65 + "@example.org", "x@y.io@z.io", "@@a@b.io",
                  "é.%+-@mail.example.com", "中文a@b.io"],
    }
    seen = 0
    for kind, texts in cases.items():
        for text in texts:
            assert _found(text, kind) == _reference(text, kind), (kind, text)
            seen += len(_reference(text, kind))
    assert seen >= 15
