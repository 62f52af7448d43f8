"""PII redaction: e-mail addresses and public IPv4/IPv6 addresses are replaced, never used to drop.

As in Dolma's PII handling (Soldaini et al. 2024), only strings a regular expression recognises with
high precision are redacted; IP addresses are redacted only when they are globally routable
(``ipaddress``'s ``is_global``), so version numbers, private ranges, loopback and documentation
examples stay. The counts are signals (``pii.emails`` ...); the rewrite runs on kept
documents and counts each redaction in the stage statistics (``rewritten.<source>.pii.<kind>``).

All patterns have bounded repetitions and run only when their anchor character (``@``, ``.``, ``:``)
occurs, so a 50 MB line without them costs one scan; where it occurs, each pattern is tried only where a
literal seed shows that a match can start (``_seeded``: the same matches, ~15x less CPU, issue 19).
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Any, Callable, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field

from pipeline.filters.base import Doc, Filter, FilterOptions, Rule

EMAIL = re.compile(r"(?<![\w.%+-])[\w.%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}(?![\w-])")
# ``(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d)`` written to start with its first digit, so that the regex
# engine skips to the next digit instead of testing the look-behind at every character (on Chinese text
# that test, a Unicode \w lookup per character, cost more than the rest of the chain): the same matches.
IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?!\w|\.\d)")
# The dotted IPv4 tail is tried before a last hex group, and no match may stop before ".<digit>", so
# 64:ff9b::1.1.1.1 is one address, not "64:ff9b::1" followed by ".1.1.1".
IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
                  r"(?![\w:]|\.\d)")
Kind = Literal["email", "ipv4", "ipv6"]


def _public_ip(candidate: str) -> bool:
    try:
        return ipaddress.ip_address(candidate).is_global
    except ValueError:
        return False


# Where a match can start (issue 19). The patterns open with a look-behind or a digit class, so the regex
# engine tried them at every character (IPv6, e-mail) or every digit (IPv4): 2.4 CPU s of the filter
# stage over the 10x run's 80 M characters, which hold no address (bench/README.md, issue 19). A seed starts with a literal "@", "." or
# ":", which the engine finds with a tight loop over the text, and it matches at a match's first
# separator: the "@", an IPv4 address's first dot (followed by ".D.D.D" less its last digits), an IPv6
# address's first colon (followed by hex{0,4}":"). The match can then only start at the beginning of the
# run of its first part's characters that ends at the seed: every later position of the run follows a
# character the look-behind rejects. A seed the engine skips (inside an earlier seed) follows a
# separator in the same way and cannot be a first separator.
_EMAIL_SEED = re.compile("@")
_IPV4_SEED = re.compile(r"\.\d{1,3}\.\d{1,3}\.\d")
_IPV6_SEED = re.compile(r":[0-9A-Fa-f]{0,4}:")
_HEX = frozenset("0123456789abcdefABCDEF")
_LOCAL_PUNCT = frozenset("_.%+-")


def _digit(ch: str) -> bool:
    return ch.isdecimal()  # what \d matches in a str pattern (Unicode category Nd)


def _local(ch: str) -> bool:
    return ch.isalnum() or ch in _LOCAL_PUNCT  # [\w.%+-]: \w is str.isalnum() or "_"


def _seeded(pattern: re.Pattern, seeds: re.Pattern, in_run: Callable[[str], bool], longest: int,
            text: str) -> list[re.Match]:
    """``list(pattern.finditer(text))``, trying ``pattern`` only where a seed says it can start: at the
    start of the run of ``in_run`` characters (at most ``longest``) that ends at each seed."""
    out: list[re.Match] = []
    end = 0  # finditer resumes its search where the last match ended
    match = pattern.match
    for seed in seeds.finditer(text):
        mark = start = seed.start()
        while start > 0 and mark - start <= longest and in_run(text[start - 1]):
            start -= 1
        if start < end or mark - start > longest:
            continue
        found = match(text, start)
        if found is not None:
            out.append(found)
            end = found.end()
    return out


def find(text: str, kind: str) -> list[re.Match]:
    """The matches of ``kind`` in ``text`` that are redacted: those of the regular expression (in
    ``finditer``'s order, each search resuming after the last match) that are e-mails or public IPs."""
    if kind == "email":
        return _seeded(EMAIL, _EMAIL_SEED, _local, 64, text) if "@" in text else []
    if kind == "ipv4":
        return [m for m in _seeded(IPV4, _IPV4_SEED, _digit, 3, text) if _public_ip(m.group())] \
            if "." in text else []
    # a full form has seven colons, or six before an IPv4 tail (2a00:1450:0:0:0:0:8.8.8.8); a shorter one
    # holds "::", so two colons at least: the count first, a search for "::" only then (~0.9 ns a character,
    # the costliest of the three kinds' scans on text with no address)
    colons = text.count(":")
    return [m for m in _seeded(IPV6, _IPV6_SEED, _HEX.__contains__, 4, text) if _public_ip(m.group())] \
        if colons >= 6 or (colons >= 2 and "::" in text) else []


# IPv6 before IPv4: an IPv4 tail inside an IPv6 address would otherwise be redacted alone, leaving the
# address's first groups in the text.
REDACTION_ORDER: tuple[Kind, ...] = ("email", "ipv6", "ipv4")


class PiiOptions(FilterOptions):
    redact: list[Kind] = Field(["email", "ipv4", "ipv6"], description="what to redact in kept documents")
    email_replacement: str = "[EMAIL]"
    ip_replacement: str = "[IP]"


class PiiFilter(Filter):
    name = "pii"
    Options = PiiOptions
    rewrites = True
    SIGNALS = {"emails": pa.int32(), "ipv4": pa.int32(), "ipv6": pa.int32()}

    def signal(self, doc: Doc) -> dict[str, Any]:
        return {"emails": len(find(doc.text, "email")), "ipv4": len(find(doc.text, "ipv4")),
                "ipv6": len(find(doc.text, "ipv6"))}

    def rewrite(self, text: str, counts: Counter) -> str:
        for kind in sorted(self.options.redact, key=REDACTION_ORDER.index):
            matches = find(text, kind)
            if not matches:
                continue
            counts[kind] += len(matches)
            new = self.options.email_replacement if kind == "email" else self.options.ip_replacement
            parts, last = [], 0
            for m in matches:
                parts += [text[last:m.start()], new]
                last = m.end()
            text = "".join(parts) + text[last:]
        return text

    def unchanged(self, s: dict[str, np.ndarray]) -> np.ndarray:
        # the signals count what ``find`` redacts: none of any kind, nothing to replace (a NaN, a signal
        # missing from the file, compares unequal: rewritten)
        return (s["emails"] == 0) & (s["ipv4"] == 0) & (s["ipv6"] == 0)

    def rules(self, s: dict[str, np.ndarray]) -> list[Rule]:
        return []  # redaction never removes a document
