"""`nlpbot index ...` and `nlpbot search ...` (bot/cli/index.py) as a user runs them: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.search import IndexManager
from tests.support.documents import CORPUS, write_config, write_files


def run(argv: list[str]) -> int:
    """The real `nlpbot` entry point, in this process (so capsys sees its output)."""
    return main(argv)


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch) -> Path:
    """The corpus under tmp_path, which is also the working directory (sources are relative paths, as added)."""
    monkeypatch.chdir(tmp_path)
    return write_files(tmp_path, CORPUS)


@pytest.fixture
def configured(corpus: Path) -> list[str]:
    return ["--config", str(write_config(corpus))]


def test_index_add_then_search_json(configured, corpus, capsys):
    write_files(corpus, {"handbook/logo.png": b"\x89PNG\r\n\x1a\n"})
    assert run([*configured, "index", "add", "--no-progress", "handbook"]) == 1  # some inputs failed, the rest done
    out, err = capsys.readouterr()
    assert "docs: 3 added, 0 updated, 0 unchanged, 0 removed, 1 failed" in out
    assert "skipped handbook/logo.png: unknown file type '.png'" in err

    assert run([*configured, "search", "--json", "--k", "2", "how", "do", "I", "reset", "my", "password"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 2
    assert {key: type(value) for key, value in hits[0].items() if key != "extra"} == {
        "source": str, "chunk": int, "score": float, "text": str}
    assert hits[0]["source"] == "handbook/accounts.md" and hits[0]["score"] >= hits[1]["score"]


def test_list_stats_remove(configured, capsys):
    run([*configured, "index", "add", "--no-progress", "guides"])
    capsys.readouterr()
    assert run([*configured, "index", "list"]) == 0 and capsys.readouterr().out == "docs\n"
    assert run([*configured, "index", "list", "--index", "docs"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("guides/bread.md\tmarkdown\t1 chunks")
    assert run([*configured, "index", "stats"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["sources"], stats["chunks"], stats["kind"]) == (2, 2, "flat")
    assert run([*configured, "index", "remove", "guides/bread.md"]) == 0
    assert capsys.readouterr().out == "removed guides/bread.md\n"


def test_eval_prints_metrics(configured, corpus, capsys):
    run([*configured, "index", "add", "--no-progress", "handbook", "guides"])
    (corpus / "qrels.jsonl").write_text('{"query": "how do I bake sourdough bread", "relevant": ["guides/bread.md"]}\n')
    capsys.readouterr()
    assert run([*configured, "index", "eval", "--qrels", "qrels.jsonl"]) == 0
    assert json.loads(capsys.readouterr().out) == {"queries": 1, "recall@10": 1.0, "mrr": 1.0, "ndcg@10": 1.0}


def test_errors_are_one_line_and_exit_2_for_usage_3_for_config(configured, corpus, capsys):
    assert run([*configured, "search", "--index", "nope", "anything"]) == 2
    assert capsys.readouterr().err == "error: no index named 'nope' (indexes: none yet); build it with `nlpbot index add`\n"

    (corpus / "bad.toml").write_text("[search]\nann_kind = \"lsh\"\n")
    assert run(["--config", str(corpus / "bad.toml"), "index", "list"]) == 3
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "search.ann_kind" in err and "bad.toml" in err


def test_list_and_stats_speak_json(configured, capsys):
    run([*configured, "index", "add", "--no-progress", "guides"])
    capsys.readouterr()
    assert run([*configured, "index", "list", "--json"]) == 0 and json.loads(capsys.readouterr().out) == ["docs"]
    assert run([*configured, "index", "list", "--index", "docs", "--json"]) == 0
    sources = json.loads(capsys.readouterr().out)
    assert [(row["source"], row["kind"], row["chunks"]) for row in sources] == [
        ("guides/bread.md", "markdown", 1), ("guides/garden.html", "html", 1)]
    assert run([*configured, "index", "stats", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"] == 2


def test_index_drop_deletes_the_index_and_is_refused_while_a_write_holds_it(configured, corpus, capsys):
    assert run([*configured, "index", "add", "--no-progress", "--index", "scratch", "handbook"]) == 0
    index = IndexManager(load_config(corpus / "config.toml")).open("scratch", create=False)
    with index.writing():  # as an `index add` in another process would hold it
        assert run([*configured, "index", "drop", "scratch"]) == 3
    assert "index 'scratch' is being written" in capsys.readouterr().err
    assert run([*configured, "index", "list"]) == 0
    assert capsys.readouterr().out.split() == ["scratch"]

    assert run([*configured, "index", "drop", "scratch"]) == 0
    assert capsys.readouterr().out == "dropped index scratch\n"
    assert run([*configured, "index", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert not (corpus / "indexes" / "scratch").exists()
    assert run([*configured, "index", "drop", "scratch"]) == 2  # nothing to drop: a usage error, as for search
    assert "no index named 'scratch'" in capsys.readouterr().err
