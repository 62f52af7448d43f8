"""In-training benchmarks: the config's eval.tasks are scored at every validation pass and logged to
metrics.jsonl; an unknown task is refused when the config loads, naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.training.trainer_helpers import bpe_dataset, config_dict
from training.config import ConfigError, parse_config
from training.train import train


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bpe_dataset(tmp_path_factory)


def test_benchmarks_are_logged_at_every_validation_pass(tokens: Path, tmp_path: Path) -> None:
    config = parse_config(config_dict(tokens, tmp_path / "run", optim={"max_steps": 10},
                                      eval={"every": 5, "tasks": ["core.copa", "core.lambada_openai"],
                                            "task_limit": 4}))
    result = train(config, echo=None)
    records = [json.loads(line) for line in result.metrics.read_text().splitlines()]
    benchmark = [r for r in records if r["kind"] == "benchmark"]
    assert [r["step"] for r in benchmark] == [0, 5, 10]
    for record in benchmark:
        assert set(record["tasks"]) == {"core.copa", "core.lambada_openai"}
        assert record["tasks"]["core.copa"]["items"] == 4 and record["tasks"]["core.copa"]["random_baseline"] == 0.5
        copa, lambada = record["tasks"]["core.copa"]["value"], record["tasks"]["core.lambada_openai"]["value"]
        assert record["core"] == pytest.approx(((copa - 0.5) / 0.5 + lambada) / 2)


def test_an_unknown_task_is_refused_when_the_config_loads(tokens: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"eval\.tasks.*unknown task or group 'core\.copaa'"):
        parse_config(config_dict(tokens, tmp_path / "run", eval={"tasks": ["core.copaa"]}))
