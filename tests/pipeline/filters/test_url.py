"""URL filter: domain and URL blocklists from files, banned words in the URL."""

from __future__ import annotations

from pipeline.filters.chain import ChainSpec, build, signal_hash
from tests.pipeline.filters.support import verdict


def test_blocklists_and_banned_words(tmp_path):
    domains = tmp_path / "domains.txt"
    domains.write_text("# blocked hosts\nexample.com\nbad.org\n")
    urls = tmp_path / "urls.txt"
    urls.write_text("https://good.net/one/bad/page\n")
    opts = dict(domains_file=str(domains), urls_file=str(urls), banned_words=["casino"])
    text = "any text"
    assert verdict("url", text, "https://sub.example.com/a", **opts) == ("url", "blocked_domain")
    assert verdict("url", text, "http://EXAMPLE.com", **opts) == ("url", "blocked_domain")
    assert verdict("url", text, "https://notexample.com/", **opts) is None
    assert verdict("url", text, "http://www.good.net/one/bad/page/", **opts) == ("url", "blocked_url")
    assert verdict("url", text, "https://good.net/one/bad", **opts) is None
    assert verdict("url", text, "https://good.net/free-casino-games", **opts) == ("url", "banned_word")
    assert verdict("url", text, "https://good.net/casinoroyale", **opts) is None
    assert verdict("url", text, None, **opts) is None  # no URL, nothing to test


def test_editing_a_list_changes_the_signal_hash(tmp_path):
    domains = tmp_path / "domains.txt"
    domains.write_text("example.com\n")
    spec = ChainSpec.model_validate({"url": {"domains_file": str(domains)}})
    before = signal_hash(build(spec), 1000)
    domains.write_text("example.com\nother.com\n")
    assert signal_hash(build(spec), 1000) != before


def test_banned_words_from_the_file_and_the_manifest_add_up(tmp_path):
    """A word in both lists stays banned (a union, whatever the overlap); each list also bans alone."""
    words = tmp_path / "words.txt"
    words.write_text("# banned\ncasino\nPoker\n")
    opts = dict(banned_words_file=str(words), banned_words=["CASINO", "lottery"])
    for url in ("https://good.net/casino", "https://good.net/poker-night", "https://good.net/lottery"):
        assert verdict("url", "any text", url, **opts) == ("url", "banned_word"), url
    assert verdict("url", "any text", "https://good.net/bingo", **opts) is None
