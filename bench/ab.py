"""Interleaved A/B check of the issue-12 ratios: raw libraries vs the bot on onnx-int8, alternated 3 times, medians.

    python bench/ab.py      # prints markdown rows; on a shared machine this is steadier than bench/run.py rows
"""

import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from concurrent.futures import ThreadPoolExecutor  # noqa: E402

from transformers import pipeline  # noqa: E402

from bench.run import raw_onnx, sentiment_bot, sentiment_model, texts_for  # noqa: E402

tmp = Path(tempfile.mkdtemp())
atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # a model and its exports: ~230 MB
model, note = sentiment_model(tmp / "s")
raw = pipeline("text-classification", model=model, device="cpu")
torch_bot = sentiment_bot(tmp / "t.toml", model, workers=256, queue_size=1024, runtime="torch")
bot = sentiment_bot(tmp / "o.toml", model, workers=256, queue_size=1024, runtime="onnx-int8")
served = bot.hub.loaded()[0]
raw_ort = raw_onnx(Path(served.info["loaded_from"]), served.info["dtype"])  # same export, same session settings
texts = texts_for(int(os.environ.get("AB_TEXTS", "192")))


def timed(fn):
    started = time.perf_counter()
    fn()
    return len(texts) / (time.perf_counter() - started)


def conc(b, c):
    def run():
        with ThreadPoolExecutor(max_workers=c) as pool:
            list(pool.map(lambda t: b.ask(f"/sentiment {t}"), texts))
    return run


pairs = {"bot on onnx-int8 at 1 concurrent / raw pipeline one text per call": (lambda: [raw(t) for t in texts], conc(bot, 1)),
         "bot on onnx-int8 at 32 concurrent / raw pipeline batched": (lambda: raw(texts, batch_size=32), conc(bot, 32)),
         "bot on onnx-int8 at 128 concurrent / raw pipeline batched": (lambda: raw(texts, batch_size=32), conc(bot, 128)),
         "raw ONNX Runtime int8 batch 32 (padded to the longest) / raw pipeline batched":
             (lambda: raw(texts, batch_size=32), lambda: [raw_ort(texts[i:i + 32]) for i in range(0, len(texts), 32)]),
         "bot.ask on onnx-int8, one at a time in the caller's thread / raw ONNX Runtime int8 one text per call":
             (lambda: [raw_ort([t]) for t in texts], lambda: [bot.ask(f"/sentiment {t}") for t in texts]),
         "bot on onnx-int8 / bot on torch, 1 concurrent": (conc(torch_bot, 1), conc(bot, 1)),
         "bot on onnx-int8 / bot on torch, 32 concurrent": (conc(torch_bot, 32), conc(bot, 32))}
raw(texts[:4])
conc(bot, 4)()
conc(torch_bot, 4)()
raw_ort(texts[:4])
print(f"load before: {os.getloadavg()[0]:.1f}; model: {note}; the bot serves {served.info['dtype']}; "
      f"{len(texts)} texts per timing, A/B alternated 3 times")
for name, (a, b) in pairs.items():
    ratios, ra, rb = [], [], []
    for _ in range(3):
        x = timed(a)
        y = timed(b)
        ra.append(x)
        rb.append(y)
        ratios.append(y / x)
    print(f"| {name} | {statistics.median(ra):.0f} | {statistics.median(rb):.0f} | {statistics.median(ratios):.2f} "
          f"| {min(ratios):.2f}-{max(ratios):.2f} |", flush=True)
print(f"load after: {os.getloadavg()[0]:.1f}")
