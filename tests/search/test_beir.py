"""`nlpbot index eval --beir` and `index tune` on a small BEIR-format folder written by the test."""

from __future__ import annotations

import json
from pathlib import Path

from bot.cli import main

from tests.support.documents import write_config

DOCS = {
    "d1": ("Resetting a password", "Open the account page and click Forgot password; a link is emailed to you."),
    "d2": ("Cafeteria hours", "The cafeteria on the ground floor serves lunch from noon to two on weekdays."),
    "d3": ("Business travel", "Travel must be approved by your manager. Trains for trips under four hours."),
    "d4": ("Tomatoes", "Water tomato plants deeply twice a week, in the morning, never wetting the leaves."),
    "d5": ("Sourdough", "Feed the starter with equal weights of flour and water; bake at 240 degrees."),
    "d6": ("Error XQ-7731", "XQ-7731 means the licence server refused the seat; restart the licence daemon."),
}
QUERIES = {"q1": ("I forgot my login secret, how do I get a new one?", ["d1"]),
           "q2": ("when can I eat lunch at the office", ["d2"]),
           "q3": ("what does XQ-7731 mean", ["d6"]),
           "q4": ("how often should I water my tomato plants and when", ["d4"]),
           "q5": ("can I take the train or a plane for a work trip", ["d3"]),
           "q6": ("baking bread with a starter", ["d5"])}


def write_beir(folder: Path) -> Path:
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("".join(
        json.dumps({"_id": doc, "title": title, "text": text}) + "\n" for doc, (title, text) in DOCS.items()))
    (folder / "queries.jsonl").write_text("".join(
        json.dumps({"_id": query, "text": text}) + "\n" for query, (text, _) in QUERIES.items()))
    for split, names in {"train": ["q1", "q2", "q3"], "test": ["q4", "q5", "q6", "q3"]}.items():
        rows = [f"{query}\t{doc}\t1" for query in names for doc in QUERIES[query][1]]
        (folder / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n")
    return folder


def nlpbot(capsys, *args: str) -> tuple[int, str, str]:
    """The real entry point in this process (the model is loaded once per test session)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_beir_eval_reports_three_modes_side_by_side_and_reuses_its_index(tmp_path, capsys):
    beir = write_beir(tmp_path / "tiny")
    config = str(write_config(tmp_path))

    code, out, err = nlpbot(capsys, "index", "eval", "--beir", str(beir), "--json", "--config", config)
    assert code == 0, err
    result = json.loads(out)
    assert result["index"] == "beir-tiny" and result["queries"] == 4 and result["split"] == "test"
    assert result["index_build"]["documents"] == 6 and result["index_build"]["chunks_embedded"] == 6
    assert set(result["results"]) == {"dense", "keyword", "hybrid"}
    for scores in result["results"].values():
        assert set(scores) == {"ndcg@10", "recall@100", "mrr@10", "ms_per_query"}
    assert result["results"]["dense"]["recall@100"] == result["results"]["hybrid"]["recall@100"] == 1.0
    assert result["results"]["keyword"]["recall@100"] < 1.0  # "I forgot my login secret" shares no word with d1
    hybrid = result["results"]["hybrid"]["ndcg@10"]
    assert hybrid >= max(result["results"]["dense"]["ndcg@10"], result["results"]["keyword"]["ndcg@10"])
    assert hybrid > 0.9

    code, out, err = nlpbot(capsys, "index", "eval", "--beir", str(beir), "--split", "train", "--config", config)
    assert code == 0, err
    assert "0 chunks embedded" in out and "(train): 3 queries" in out
    assert [line.split()[0] for line in out.splitlines()[2:5]] == ["dense", "keyword", "hybrid"]

    code, out, err = nlpbot(capsys, "index", "tune", "--beir", str(beir), "--json", "--config", config)
    assert code == 0, err
    best = json.loads(out)
    assert best["ndcg@10"] >= max(best["dense"], best["keyword"])
    assert 0 <= best["best"]["dense_weight"] <= 1 and len(best["grid"]) == 21 * 4


def test_a_beir_folder_without_the_split_is_a_usage_error(tmp_path, capsys):
    beir = write_beir(tmp_path / "tiny")
    code, _, err = nlpbot(capsys, "index", "eval", "--beir", str(beir), "--split", "dev",
                          "--config", str(write_config(tmp_path)))
    assert code == 2 and "qrels/dev.tsv" in err


def test_data_beir_turns_judged_queries_into_training_pairs(tmp_path, capsys):
    beir = write_beir(tmp_path / "tiny")
    out = tmp_path / "pairs.jsonl"
    code, printed, err = nlpbot(capsys, "data", "beir", str(beir), "--split", "train", "--out", str(out),
                                "--config", str(write_config(tmp_path)))
    assert code == 0, err
    assert f"{out}: 3 query/positive pairs from 3 train queries" in printed
    assert "DEBUG" not in err  # bm25s sets its own logger to DEBUG; the configured level (INFO) holds
    pairs = [json.loads(line) for line in out.read_text().splitlines()]
    assert pairs[2] == {"query": "what does XQ-7731 mean",
                        "positive": "Error XQ-7731\nXQ-7731 means the licence server refused the seat; "
                                    "restart the licence daemon."}

    code, printed, err = nlpbot(capsys, "data", "beir", str(beir), "--split", "test", "--out", str(out),
                                "--config", str(write_config(tmp_path)))
    assert code == 0, err
    pairs = {pair["query"]: pair for pair in map(json.loads, out.read_text().splitlines())}
    # the hard negative: the best keyword match ("water") among the documents not judged relevant
    assert pairs["how often should I water my tomato plants and when"]["negative"].startswith("Sourdough\n")
    assert "negative" not in pairs["baking bread with a starter"]  # its only keyword match is its own document
