"""CLINC150 (150 intents and out-of-scope queries): nlpbot's classifier against TF-IDF + logistic regression.

    python bench/clinc.py train [--data DIR] [--work DIR]   # train on train (+ oos_train), threshold on val; val only
    python bench/clinc.py test  [--data DIR] [--work DIR]   # once, when the defaults are settled: the test split

`train` writes the splits as JSON lines and a config.toml with one table, [classifiers.clinc] (the defaults a
classifier gets: nothing else is set), runs `nlpbot train clinc` and times it (wall clock and the CPU time of the
run, with the load average around it), then scores the baseline on val. `test` runs `nlpbot eval clinc` on the test
split (+ oos_test) and the baseline once, and writes bench/results/DATE-clinc.md with the table. In-scope accuracy
counts an in-scope query answered "not sure" as wrong, as the paper does; out-of-scope recall is the share of
out-of-scope queries answered "not sure". The baseline (scikit-learn, which sentence-transformers installs) gets its
threshold on val by the rule nlpbot's calibration uses (`bot/training/calibration.py`): a right answer +1, a wrong
one -1, and "not sure" +1 on an out-of-scope query and -1 on any other (the most right answers on val).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dated import dated_results  # noqa: E402

PROGRESS = "nlpbot-progress: "  # how `nlpbot train --progress-lines` marks its progress lines

PAPER = [  # Larson et al. 2019, Table 2, "Full" training set (see ../shared/data/clinc150/SOURCE.md)
    ("BERT-base, oos as a 151st class", 0.969, 0.403), ("BERT-base, threshold on val", 0.962, 0.523),
    ("Rasa NLU, oos as a class", 0.915, 0.453), ("Rasa NLU, threshold", 0.909, 0.312),
    ("DialogFlow, oos as a class", 0.917, 0.140), ("DialogFlow, threshold", 0.908, 0.267),
]
TARGETS = {"in_scope_accuracy": 0.95, "oos_recall": 0.50, "train_minutes": 20.0}
CONFIG = """[models]
models_dir = "models"
[plugins.ner]
enabled = false
[plugins.sentiment]
enabled = false

[classifiers.clinc]
description = "Which of CLINC150's 150 intents is this query (or none)?"
data = "train.jsonl"
eval_data = "val.jsonl"
"""


def write_splits(data: Path, work: Path) -> None:
    """train = train + oos_train, val = val + oos_val, test = test + oos_test, as {"text", "label"} lines."""
    full = json.loads((data / "data_full.json").read_text(encoding="utf-8"))
    work.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val", "test"):
        rows = full[split] + full[f"oos_{split}"]
        (work / f"{split}.jsonl").write_text("".join(json.dumps({"text": text, "label": label}) + "\n"
                                                     for text, label in rows), encoding="utf-8")
    (work / "config.toml").write_text(CONFIG, encoding="utf-8")


def read(work: Path, split: str) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (work / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    return [row["text"] for row in rows], [row["label"] for row in rows]


def nlpbot(*args: str, work: Path) -> str:
    """Its stdout; its progress lines and errors also go to this process's stderr (the log) as they come."""
    child = subprocess.Popen([sys.executable, "-m", "bot", *args, "--config", str(work / "config.toml")], cwd=work,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = []
    for line in child.stdout:
        lines.append(line)
        if line.startswith(PROGRESS):
            print(time.strftime("%H:%M:%S"), line.rstrip(), file=sys.stderr, flush=True)
    if child.wait():
        raise SystemExit(f"nlpbot {' '.join(args)} failed (exit {child.returncode})")
    return "".join(line for line in lines if not line.startswith(PROGRESS))


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def scores(gold: list[str], answered: list[str | None]) -> dict[str, float]:
    inside = [(g, a) for g, a in zip(gold, answered) if g != "oos"]
    outside = [a for g, a in zip(gold, answered) if g == "oos"]
    return {"in_scope_accuracy": float(np.mean([g == a for g, a in inside])),
            "oos_recall": float(np.mean([a is None for a in outside]))}


def threshold(best: np.ndarray, right: np.ndarray, out_of_scope: np.ndarray, never: np.ndarray) -> float:
    """nlpbot's rule (bot/training/calibration.py), for the baseline: the cut with the best total on val."""
    keep = ~never
    order = np.argsort(best[keep], kind="stable")
    sorted_best = best[keep][order]
    not_sure = -1 if out_of_scope.any() else 0
    gain = np.where(out_of_scope[keep], -2, np.where(right[keep], 1, -1) - not_sure)[order]
    totals = np.concatenate([np.cumsum(gain[::-1])[::-1], [0]])
    cut = int(np.argmax(totals))
    return 0.0 if cut == 0 else float(sorted_best[cut - 1] + sorted_best[min(cut, len(sorted_best) - 1)]) / 2


def baseline(work: Path, split: str) -> dict[str, dict[str, float]]:
    """TF-IDF (words and bigrams) + logistic regression trained on train, oos a class; with and without a threshold."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = read(work, "train")
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    model = LogisticRegression(C=10.0, max_iter=2000).fit(vectorizer.fit_transform(texts), labels)
    classes = list(model.classes_)
    inside = np.array([label != "oos" for label in classes])

    def answer(split_texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        probabilities = model.predict_proba(vectorizer.transform(split_texts))
        top = probabilities.argmax(axis=1)
        return np.where(inside[None, :], probabilities, -1).max(axis=1), np.array(classes, dtype=object)[top], \
            ~inside[top]

    val_texts, val_gold = read(work, "val")
    best, top, never = answer(val_texts)
    gold = np.array(val_gold, dtype=object)
    cut = threshold(best, top == gold, gold == "oos", never)
    split_texts, split_gold = read(work, split)
    best, top, never = answer(split_texts)
    as_class = [None if n else t for t, n in zip(top, never)]
    with_threshold = [None if n or b < cut else t for t, b, n in zip(top, best, never)]
    return {"oos as a class": scores(split_gold, as_class),
            f"threshold {cut:.3f} on val": scores(split_gold, with_threshold)}


def cmd_train(work: Path, data: Path) -> None:
    write_splits(data, work)
    before, started = load(), time.monotonic()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    trained = nlpbot("train", "clinc", "--progress-lines", work=work)  # progress (stderr) to the log
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    timing = {"wall_s": round(time.monotonic() - started, 1), "load_before": before, "load_after": load(),
              "cpu_s": round((cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime), 1),
              "cores": len(os.sched_getaffinity(0))}
    shown = json.loads(nlpbot("models", "show", "clinc", "--json", work=work))
    val = {key: shown["metrics"][key] for key in ("accuracy", "macro_f1", "in_scope_accuracy", "oos_recall")}
    record = {"timing": timing, "version": shown["version"], "parameters": shown["parameters"],
              "calibration": shown["calibration"], "val": val, "baseline_val": baseline(work, "val"),
              "summary": trained.strip().splitlines()[0]}
    (work / "train-run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    print(json.dumps(record, indent=2))


def cmd_test(work: Path) -> None:
    record = json.loads((work / "train-run.json").read_text(encoding="utf-8"))
    started, before = time.monotonic(), load()
    report = json.loads(nlpbot("eval", "clinc", "--data", "test.jsonl", "--json", work=work))
    ours = {key: report["metrics"][key] for key in ("in_scope_accuracy", "oos_recall", "accuracy", "macro_f1")}
    record.update(test=ours, baseline_test=baseline(work, "test"), test_eval_s=round(time.monotonic() - started, 1),
                  test_load=[before, load()])
    (work / "test-run.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    path = dated_results("clinc")
    path.write_text(table(record), encoding="utf-8")
    print(table(record))
    print(f"written to {path}")


def table(record: dict) -> str:
    timing = record["timing"]
    minutes = timing["wall_s"] / 60
    idle = timing["cpu_s"] / 60 / timing["cores"]
    mark = lambda ok: "met" if ok else "missed"  # noqa: E731
    ours = record["test"]
    rows = [f"| nlpbot classifier (MiniLM-L6 fine-tuned, threshold {record['calibration']['threshold']:.3f} on val) "
            f"| {ours['in_scope_accuracy']:.3f} | {ours['oos_recall']:.3f} | {minutes:.1f} min |"]
    rows += [f"| TF-IDF + logistic regression, {name} | {row['in_scope_accuracy']:.3f} | {row['oos_recall']:.3f} | |"
             for name, row in record["baseline_test"].items()]
    rows += [f"| {name} (paper) | {accuracy:.3f} | {recall:.3f} | |" for name, accuracy, recall in PAPER]
    return "\n".join([
        f"# CLINC150, test split ({time.strftime('%Y-%m-%d')})", "",
        "| classifier | in-scope accuracy | out-of-scope recall | training |", "|---|---|---|---|", *rows, "",
        f"- in-scope accuracy >= {TARGETS['in_scope_accuracy']}: "
        f"{mark(ours['in_scope_accuracy'] >= TARGETS['in_scope_accuracy'])} ({ours['in_scope_accuracy']:.3f})",
        f"- out-of-scope recall >= {TARGETS['oos_recall']}: "
        f"{mark(ours['oos_recall'] >= TARGETS['oos_recall'])} ({ours['oos_recall']:.3f})",
        f"- training under {TARGETS['train_minutes']:.0f} minutes on 2 cores: {mark(minutes < TARGETS['train_minutes'])}"
        f" as measured ({minutes:.1f} min wall, load average {timing['load_before']} before and "
        f"{timing['load_after']} after); its CPU time, {timing['cpu_s'] / 60:.1f} min, is {idle:.1f} min on "
        f"{timing['cores']} otherwise idle cores", "",
        f"Val (threshold chosen here): {json.dumps(record['val'])}; baseline {json.dumps(record['baseline_val'])}",
        f"Parameters: {json.dumps(record['parameters'])}", f"Run: {record['summary'].removeprefix(PROGRESS)}", ""])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["train", "test"])
    shared = next((folder / "shared" / "data" / "clinc150" for folder in ROOT.parents
                   if (folder / "shared" / "data" / "clinc150").is_dir()), ROOT.parent / "shared" / "data" / "clinc150")
    parser.add_argument("--data", type=Path, default=shared, help="the folder of data_full.json (../shared/data/clinc150)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/nlpbot-clinc150"))
    args = parser.parse_args()
    if not (args.data / "data_full.json").is_file():
        parser.error(f"no CLINC150 at {args.data} (data_full.json): give --data DIR")
    if args.step == "train":
        cmd_train(args.work, args.data)
    else:
        cmd_test(args.work)


if __name__ == "__main__":
    main()
