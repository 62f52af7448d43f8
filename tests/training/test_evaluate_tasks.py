"""The task registry and prompt text: the shipped entries agree with the CORE bundle's core.yaml and
eval_meta_data.csv, the official files read as their published sizes, prompts are exactly the bundle's
format, few-shot draws are seeded, and bad registries or data files are named by file and line."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from training.benchmarks.items import Item, TaskDataError
from training.benchmarks.metrics import centered, core_score
from training.benchmarks.prompts import item_requests, shot_indices
from training.benchmarks.tasks import TaskRegistryError, load_registry


@pytest.fixture(scope="module")
def registry(shared_data: Path):
    return load_registry(data_dir=shared_data / "eval")


def test_core_entries_match_the_bundle(registry, shared_data: Path) -> None:
    bundle = shared_data / "eval" / "core_eval_bundle"
    core = yaml.safe_load((bundle / "core.yaml").read_text())["icl_tasks"]
    meta = {row["Eval Task"]: row for row in csv.DictReader((bundle / "eval_meta_data.csv").open())}
    ours = registry.groups["core"]
    assert sorted(ours) == sorted(f"core.{t['label']}" for t in core if t["label"] not in ("squad", "coqa"))
    for task in core:
        name = f"core.{task['label']}"
        if name not in ours:
            continue
        spec = registry.tasks[name]
        assert spec.type == task["icl_task_type"], name
        assert spec.shots == task["num_fewshot"][0], name
        assert spec.continuation_delimiter == task.get("continuation_delimiter", " "), name
        assert spec.example_delimiter == "\n\n"
        assert spec.random_baseline == pytest.approx(float(meta[task["label"]]["Random baseline"]) / 100), name
        assert spec.metric == ("acc" if spec.type == "language_modeling" else "acc_per_token")


def test_official_files_read_as_their_published_sizes(registry) -> None:
    sizes = {"lambada_openai": 5153, "arc_easy": 2376, "arc_challenge": 1172, "piqa": 1838, "openbookqa": 500,
             "winogrande": 1267, "hellaswag": 10042}
    for name, size in sizes.items():
        items = registry.tasks[name].load_items()
        assert len(items) == size, name
        if registry.tasks[name].type == "multiple_choice":
            assert all(0 <= item.gold < len(item.choices) for item in items)
    obqa = registry.tasks["openbookqa"].load_items()[0]
    assert obqa.choices == ("make more phone calls", "quit eating lunch out", "buy less with monopoly money",
                            "have lunch with friends") and obqa.gold == 1
    hellaswag = registry.tasks["hellaswag"].load_items()[0]
    assert hellaswag.query == "Roof shingle removal: A man is sitting on a roof. he" and hellaswag.gold == 3
    lambada = registry.tasks["lambada_openai"].load_items()[0]
    assert lambada.continuation == "signs" and lambada.query.endswith("I don't care about")


@pytest.mark.parametrize("bundle_file, official_file, wrong", [("arc_easy", "ARC-Easy-Test", 71),
                                                               ("arc_challenge", "ARC-Challenge-Test", 20)])
def test_core_arc_uses_the_official_answer_keys(registry, shared_data: Path, bundle_file: str, official_file: str,
                                               wrong: int) -> None:
    """The bundle's ARC gold answer differs from the official one on 71 / 20 items, all with digit answer
    keys (PROVENANCE.md); core.arc_* read the official files: same questions, in the same order."""
    bundle = [json.loads(line) for line in
              (shared_data / f"eval/core_eval_bundle/world_knowledge/{bundle_file}.jsonl").open()]
    ours = registry.tasks[f"core.{bundle_file}"].load_items()
    assert [item.query for item in ours] == [record["query"] for record in bundle]
    differ = [i for i, (item, record) in enumerate(zip(ours, bundle))
              if item.choices[item.gold] != record["choices"][record["gold"]]]
    assert len(differ) == wrong
    official = [json.loads(line) for line in (shared_data / f"eval/arc/{official_file}.jsonl").open()]
    assert all(official[i]["answerKey"].isdigit() for i in differ)


def test_winogrande_gold_from_the_official_labels_equals_the_bundle(registry) -> None:
    assert ([i.gold for i in registry.tasks["winogrande"].load_items()]
            == [i.gold for i in registry.tasks["core.winogrande"].load_items()])


# ---- prompt text: golden examples of the bundle's format (core.yaml delimiters, "\n\n" between shots)

MC = [Item(query="Question: Which is a mammal?", choices=("trout", "whale"), gold=1),
      Item(query="Question: What melts ice?", choices=("heat", "cold"), gold=0),
      Item(query="Question: Which is a planet?", choices=("Mars", "Moon", "Sun"), gold=0)]


def test_few_shot_draw_is_seeded_and_excludes_the_item() -> None:
    assert shot_indices(10, 4, 3, 1234) == shot_indices(10, 4, 3, 1234)
    assert all(4 not in shot_indices(10, 4, 9, seed) for seed in range(20))
    assert shot_indices(10, 4, 3, 1234) != shot_indices(10, 4, 3, 99)
    assert shot_indices(5, 0, 0, 1234) == []
    with pytest.raises(ValueError, match="only 2 other items"):
        shot_indices(3, 0, 3, 1234)


def test_golden_multiple_choice_prompt() -> None:
    requests = item_requests("multiple_choice", MC, 2, 2, 1234, "\nAnswer: ")
    shots = shot_indices(3, 2, 2, 1234)
    solved = {0: "Question: Which is a mammal?\nAnswer: whale", 1: "Question: What melts ice?\nAnswer: heat"}
    prefix = solved[shots[0]] + "\n\n" + solved[shots[1]] + "\n\n"
    assert [(r.context, r.continuation) for r in requests] == [
        (prefix + "Question: Which is a planet?\nAnswer:", " Mars"),
        (prefix + "Question: Which is a planet?\nAnswer:", " Moon"),
        (prefix + "Question: Which is a planet?\nAnswer:", " Sun")]
    assert shots in ([0, 1], [1, 0])


def test_golden_zero_shot_prompts_of_each_type() -> None:
    schema = Item(choices=("The trophy did not fit the suitcase because the trophy",
                           "The trophy did not fit the suitcase because the suitcase"),
                  continuation="was too big.", gold=0)
    assert [(r.context, r.continuation) for r in item_requests("schema", [schema], 0, 0, 1234)] == [
        ("The trophy did not fit the suitcase because the trophy", " was too big."),
        ("The trophy did not fit the suitcase because the suitcase", " was too big.")]
    lm = Item(query="  The capital of France is \n", continuation="Paris")
    assert [(r.context, r.continuation) for r in item_requests("language_modeling", [lm], 0, 0, 1234)] == [
        ("The capital of France is", " Paris")]


def test_golden_few_shot_schema_and_language_modelling_prompts() -> None:
    schema = [Item(choices=("Anna beat Bo because Anna", "Anna beat Bo because Bo"), continuation="was faster.",
                   gold=0),
              Item(choices=("Cy lent Di a pen because Cy", "Cy lent Di a pen because Di"), continuation="had none.",
                   gold=1)]
    assert [(r.context, r.continuation) for r in item_requests("schema", schema, 0, 1, 1234)] == [
        ("Cy lent Di a pen because Di had none.\n\nAnna beat Bo because Anna", " was faster."),
        ("Cy lent Di a pen because Di had none.\n\nAnna beat Bo because Bo", " was faster.")]
    lm = [Item(query="Q: 2+2?", continuation="4"), Item(query="Q: 3+3? ", continuation="6")]
    assert [(r.context, r.continuation) for r in item_requests("language_modeling", lm, 1, 1, 1234, "\nA: ")] == [
        ("Q: 2+2?\nA: 4\n\nQ: 3+3?\nA:", " 6")]


# ---- CORE centring

def test_core_centres_each_task_on_its_baseline_and_averages() -> None:
    assert centered(0.625, 0.25) == pytest.approx(0.5)
    assert centered(0.25, 0.25) == 0.0 and centered(1.0, 0.62) == pytest.approx(1.0)
    assert centered(0.5, 0.62) == pytest.approx(-0.12 / 0.38)
    results = {"a": {"value": 0.625, "random_baseline": 0.25}, "b": {"value": 0.0, "random_baseline": 0.0},
               "c": {"value": 0.75, "random_baseline": 0.5}}
    assert core_score(results) == pytest.approx((0.5 + 0.0 + 0.5) / 3)


# ---- bad registries and data files

def write_registry(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tasks.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_registry_entry_names_file_and_line(tmp_path: Path) -> None:
    path = write_registry(tmp_path, "tasks:\n  good: {file: a.jsonl, format: jsonl, type: schema}\n"
                                    "  bad:\n    file: b.jsonl\n    format: jsonl\n    type: multiple_choise\n")
    with pytest.raises(TaskRegistryError, match=rf"{path}:3: task 'bad': type 'multiple_choise' is not one of"):
        load_registry(path, tmp_path)
    path = write_registry(tmp_path, "tasks:\n  x: {file: a.jsonl, format: jsonl, type: schema, shots: -1}\n")
    with pytest.raises(TaskRegistryError, match=rf"{path}:2: task 'x': shots must be a non-negative integer"):
        load_registry(path, tmp_path)
    path = write_registry(tmp_path, "tasks:\n  x: {file: a.jsonl, format: jsonl, type: schema, metric: perplexity}\n")
    with pytest.raises(TaskRegistryError, match="metric 'perplexity' does not apply to schema"):
        load_registry(path, tmp_path)
    path = write_registry(tmp_path, "tasks:\n  x: {file: a.jsonl, format: jsonl\n")
    with pytest.raises(TaskRegistryError, match=rf"{path}:3: not valid YAML"):
        load_registry(path, tmp_path)
    registry = load_registry(write_registry(tmp_path, "tasks:\n  x: {file: a.jsonl, format: jsonl, type: schema}\n"),
                             tmp_path)
    with pytest.raises(TaskRegistryError, match="unknown task or group 'y'"):
        registry.select("x,y")


def test_bad_data_file_names_file_and_line(tmp_path: Path) -> None:
    data = tmp_path / "mc.jsonl"
    data.write_text('{"query": "q", "choices": ["a", "b"], "gold": 1}\n\n'
                    '{"query": "q", "choices": ["a", "b"], "gold": 2}\n', encoding="utf-8")
    registry = load_registry(write_registry(tmp_path, "tasks:\n  mc: {file: mc.jsonl, format: jsonl, "
                                                      "type: multiple_choice}\n"), tmp_path)
    with pytest.raises(TaskDataError, match=rf"{data}:3: gold index 2 is outside the 2 choices"):
        registry.tasks["mc"].load_items()
    data.write_text('{"query": "q", "choices": ["a", "b"], "gold": 1}\n{"query": "q", "choice": []}\n')
    with pytest.raises(TaskDataError, match=rf"{data}:2: record lacks the key 'choices'"):
        load_registry(tmp_path / "tasks.yaml", tmp_path).tasks["mc"].load_items()
    data.write_text('{"query": "q", "choices": ["a", "b"], "gold": 1}\n{"query": \n')
    with pytest.raises(TaskDataError, match=rf"{data}:2: not valid JSON"):
        load_registry(tmp_path / "tasks.yaml", tmp_path).tasks["mc"].load_items()


def test_a_new_benchmark_in_a_known_format_needs_only_an_entry(tmp_path: Path) -> None:
    """A minimal-pair file (BLiMP's field names) and a line-block file, described by YAML alone."""
    (tmp_path / "pairs.jsonl").write_text(json.dumps({"sentence_good": "Cats sleep.", "sentence_bad": "Cats sleeps."})
                                          + "\n", encoding="utf-8")
    (tmp_path / "blocks.txt").write_text("ctx one\n1\nend a\nend b\nctx two\n0\nend c\nend d\n", encoding="utf-8")
    registry = load_registry(write_registry(tmp_path, """
tasks:
  pairs: {file: pairs.jsonl, format: jsonl, type: minimal_pair, fields: {good: sentence_good, bad: sentence_bad}}
  blocks: {file: blocks.txt, format: line_blocks, block: [query, gold, choice, choice], type: multiple_choice}
groups: {mine: [pairs, blocks]}
"""), tmp_path)
    assert [spec.name for spec in registry.select("mine")] == ["pairs", "blocks"]
    assert registry.tasks["pairs"].load_items() == [Item(choices=("Cats sleep.", "Cats sleeps."), gold=0, line=1)]
    assert registry.tasks["blocks"].load_items() == [Item(query="ctx one", choices=("end a", "end b"), gold=1, line=1),
                                                     Item(query="ctx two", choices=("end c", "end d"), gold=0, line=5)]
