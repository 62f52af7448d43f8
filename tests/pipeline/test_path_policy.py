"""io.allowed_roots and $REFINERY_ALLOWED_ROOTS: sources and outputs outside them refused before any work."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.manifest import load_manifest
from pipeline.path_policy import ENV_VAR, PathPolicy, PathPolicyError, enforce, glob_base
from pipeline.run import run_manifest
from tests.pipeline.helpers import write_manifest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def allowed(tmp_path: Path, shared_data: Path) -> Path:
    root = tmp_path / "allowed"
    (root / "in").mkdir(parents=True)
    (root / "in" / "verdict.txt").write_bytes((shared_data / "books/the-verdict.txt").read_bytes())
    return root


def books_manifest(folder: Path, paths: list[str], roots: list[str] | None, output: Path | None = None):
    path = write_manifest(folder, [{"name": "books", "kind": "books", "paths": paths}],
                          io={"allowed_roots": roots} if roots is not None else {})
    if output is not None:
        text = path.read_text().replace(str(folder / "out"), str(output))
        path.write_text(text)
    return load_manifest(path)


@pytest.mark.parametrize("source", ["/proc/self/environ", "{root}/../outside.txt", "{root}/in/link.txt",
                                    "{root}/../*.txt"])
def test_sources_outside_the_roots_are_refused_before_any_work(allowed: Path, tmp_path: Path,
                                                               source: str) -> None:
    (tmp_path / "outside.txt").write_text("secret")
    (allowed / "in" / "link.txt").symlink_to(tmp_path / "outside.txt")  # inside by name, outside in fact
    manifest = books_manifest(allowed, [source.format(root=allowed)], ["."])
    with pytest.raises(PathPolicyError, match=r"source 'books' path .* is outside the allowed roots"):
        run_manifest(manifest)
    assert not (allowed / "out").exists(), "nothing written, Ray not needed"


def test_an_output_outside_the_roots_is_refused(allowed: Path, tmp_path: Path) -> None:
    manifest = books_manifest(allowed, ["in/verdict.txt"], ["."], output=tmp_path / "elsewhere")
    with pytest.raises(PathPolicyError, match="run folder"):
        run_manifest(manifest)
    assert not (tmp_path / "elsewhere").exists()


def test_inside_the_roots_runs(ray_local, allowed: Path) -> None:
    manifest = books_manifest(allowed, ["in/*.txt"], ["."])
    assert run_manifest(manifest)["crawl"].tally.counts["docs_out"] == 1


def test_the_environment_policy_holds_whatever_the_manifest_says(allowed: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    manifest = books_manifest(allowed, ["in/verdict.txt"], None)
    enforce(manifest)  # no policy at all: everything allowed
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "only-this"))
    with pytest.raises(PathPolicyError, match=ENV_VAR):
        enforce(manifest)
    monkeypatch.setenv(ENV_VAR, f"{tmp_path / 'only-this'},{allowed}")
    enforce(manifest)


def test_the_cli_refuses_with_exit_2(allowed: Path) -> None:
    path = write_manifest(allowed, [{"name": "b", "kind": "books", "paths": ["/proc/self/environ"]}],
                          io={"allowed_roots": ["."]})
    proc = subprocess.run([sys.executable, "-m", "pipeline", "run", str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env={**os.environ, ENV_VAR: ""})
    assert proc.returncode == 2 and "/proc/self/environ" in proc.stderr and "Traceback" not in proc.stderr


def test_url_roots_admit_only_their_prefix() -> None:
    policy = PathPolicy(["https://data.commoncrawl.org/crawl-data/", "/srv/corpora"])
    assert policy.allows("https://data.commoncrawl.org/crawl-data/CC-MAIN-2024-22/x.warc.gz")
    assert policy.allows("HTTPS://DATA.commoncrawl.org/crawl-data/a")
    assert not policy.allows("https://data.commoncrawl.org/crawl-data/../secret")
    assert not policy.allows("https://data.commoncrawl.org.evil.example/crawl-data/a")
    assert not policy.allows("http://169.254.169.254/latest/meta-data")
    assert not policy.allows("s3://bucket/srv/corpora/x")
    assert policy.allows("/srv/corpora/a/b.txt") and not policy.allows("/srv/corpora-other/b.txt")
    assert PathPolicy().allows("/anything") and PathPolicy(None, []).allows("/anything")
    assert glob_base("/a/b/*.txt") == "/a/b" and glob_base("/a/b/c.txt") == "/a/b/c.txt"
