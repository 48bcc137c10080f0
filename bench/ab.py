"""Interleaved A/B check of the issue-12 ratios: raw pipeline vs the bot on onnx-int8, alternated 3 times, medians.

    python bench/ab.py      # prints markdown rows; on a shared machine this is steadier than bench/run.py rows
"""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from concurrent.futures import ThreadPoolExecutor
from bench.run import sentiment_model, sentiment_bot, texts_for
from transformers import pipeline
tmp = Path(tempfile.mkdtemp())
model, note = sentiment_model(tmp / "s")
raw = pipeline("text-classification", model=model, device="cpu")
torch_bot = sentiment_bot(tmp / "t.toml", model, workers=256, queue_size=1024, runtime="torch")
bot = sentiment_bot(tmp / "o.toml", model, workers=256, queue_size=1024, runtime="onnx-int8")
texts = texts_for(96)
def timed(fn):
    s = time.perf_counter(); fn(); return len(texts) / (time.perf_counter() - s)
def conc(b, c):
    def run():
        with ThreadPoolExecutor(max_workers=c) as pool:
            list(pool.map(lambda t: b.ask(f"/sentiment {t}"), texts))
    return run
pairs = {"1 concurrent / raw one text": (lambda: [raw(t) for t in texts], conc(bot, 1)),
         "32 concurrent / raw batched": (lambda: raw(texts, batch_size=32), conc(bot, 32)),
         "128 concurrent / raw batched": (lambda: raw(texts, batch_size=32), conc(bot, 128)),
         "onnx-int8 bot / torch bot, 1 concurrent": (conc(torch_bot, 1), conc(bot, 1)),
         "onnx-int8 bot / torch bot, 32 concurrent": (conc(torch_bot, 32), conc(bot, 32))}
raw(texts[:4]); conc(bot, 4)(); conc(torch_bot, 4)()
print(f"load before: {os.getloadavg()[0]:.1f}; model: {note}; {len(texts)} texts per timing, A/B alternated 3 times")
for name, (a, b) in pairs.items():
    ratios, ra, rb = [], [], []
    for _ in range(3):
        x = timed(a); y = timed(b); ra.append(x); rb.append(y); ratios.append(y / x)
    print(f"| {name} | {statistics.median(ra):.0f} | {statistics.median(rb):.0f} | {statistics.median(ratios):.2f} | {min(ratios):.2f}-{max(ratios):.2f} |")
print(f"load after: {os.getloadavg()[0]:.1f}")
