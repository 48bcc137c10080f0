"""Soak test: N minutes of mixed Slack traffic over HTTP; RSS, threads and open files each minute -> bench/SOAK.md.

    python bench/soak.py [--minutes 30 | --quick] [--rate 2] [--workdir DIR] [--out bench/SOAK.md]

`nlpbot run --adapter http --warm` runs in its own process (as in production, the way tests/support/bots.py's
BotServer starts it) against the fake Slack Web API of tests/support/fakeslack.py: every model is loaded before
the port listens, so no request waits for one (the 2026-11-29 run's slow acks came from lazy loading). Every
plugin is asked through slash
commands, mentions and direct messages; a third of the way in an admin retrains sentiment (promoted and
hot-swapped), half-way the previous version is promoted back (a second hot swap), two thirds in the document
index is re-indexed, all while the traffic goes on. A request fails when its HTTP status is not 200, its ack
takes 3 s or more, no answer arrives within `--answer-timeout` seconds, or the answer is an error.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.bots import SIGNING_SECRET, BotServer  # noqa: E402
from tests.support.fakeslack import BOT_USER_ID, FakeSlack  # noqa: E402
from tests.support.signing import event_body, signed_headers, slash_command_body  # noqa: E402
from tests.support.tinymodels import tiny_nllb, tiny_text_classifier  # noqa: E402

FORM = "application/x-www-form-urlencoded"
ADMIN = "UADMIN01"
POSITIVE, NEGATIVE, NEUTRAL = ["great", "love", "wonderful"], ["awful", "hate", "terrible"], ["table", "paper", "window"]
SENTENCES = [
    "The release went out on Tuesday and the login bug is fixed.",
    "Maria Lopez from Acme Corp visits the Berlin office next week.",
    "I really love how fast the new search is, great work everyone!",
    "The build has been red since this morning and nobody knows why.",
    "Lunch is in the kitchen on the second floor, bring your own cup.",
    "Der Ausschuss hat am Montag über den Haushalt der neuen Bibliothek beraten.",
]
DOCS = {
    "onboarding.md": "# Onboarding\n\nNew people get a laptop on their first day. The VPN guide is in the wiki.\n\n"
                     "## Accounts\n\nAsk IT for a Slack account and a GitHub invite. Passwords rotate every 90 days.",
    "deploys.md": "# Deploys\n\nWe deploy on Tuesdays and Thursdays after the tests pass. Rollbacks use the previous "
                  "image tag.\n\n## Freezes\n\nNo deploys in the last week of December.",
    "lunch.txt": "Lunch is served at noon in the kitchen on the second floor. Friday is pizza day.",
}


def sentiment_data(path: Path, count: int, seed: int) -> Path:
    """Sentences whose label is one sentiment word (or none): learnable by a tiny model in seconds."""
    rng = random.Random(seed)
    words = {"negative": NEGATIVE, "neutral": NEUTRAL, "positive": POSITIVE}
    lines = []
    for _ in range(count):
        label = rng.choice(sorted(words))
        lines.append(json.dumps({"text": f"the {rng.choice(NEUTRAL)} was {rng.choice(words[label])}", "label": label}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def prepare(workdir: Path) -> Path:
    """Tiny trainable models, training data, a docs folder and a config with every plugin; one trained version."""
    workdir.mkdir(parents=True, exist_ok=True)
    base = tiny_text_classifier(workdir / "tiny-base")
    nllb = tiny_nllb(workdir / "tiny-nllb")
    docs = workdir / "docs"
    docs.mkdir(exist_ok=True)
    for name, text in DOCS.items():
        (docs / name).write_text(text, encoding="utf-8")
    config = workdir / "config.toml"
    config.write_text(f"""
[bot]
admins = ["{ADMIN}"]
[models]
models_dir = "models"
[plugins.sentiment]
model = "trained:sentiment"
[plugins.translate]
languages = ["en", "de", "fr"]
multilingual_model = "{nllb}"
multilingual_family = "nllb"
max_length = 16
num_beams = 1
[plugins.admin]
progress_every_s = 0
[search]
indexes_dir = "indexes"
default_index = "docs"
[schedule]
enabled = false
[training]
epochs = 1
batch_size = 16
max_length = 32
lr = 0.01
[training.sentiment]
data = "{sentiment_data(workdir / 'train.jsonl', 160, 1)}"
eval_data = "{sentiment_data(workdir / 'eval.jsonl', 45, 2)}"
base = "{base}"
""", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for args in (["train", "sentiment"], ["index", "add", "--index", "docs", str(docs)]):
        subprocess.run([sys.executable, "-m", "bot", *args, "--config", str(config)], cwd=workdir, env=env,
                       check=True, stdout=subprocess.DEVNULL)
    return config


@dataclass
class Pending:
    kind: str
    key: str  # a response_url name, or a mention's thread ts
    sent_at: float
    admin: bool = False


@dataclass
class Tally:
    sent: int = 0
    answered: int = 0
    failures: list[str] = field(default_factory=list)
    ack_seconds: list[float] = field(default_factory=list)
    answer_seconds: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, reason: str) -> None:
        with self.lock:
            self.failures.append(reason)
        print(f"FAILED {reason}", flush=True)


class Traffic:
    """Sends the mix, tracks what must be answered, and checks each answer as it arrives."""

    def __init__(self, server: BotServer, fake: FakeSlack, *, answer_timeout: float) -> None:
        self.server, self.fake, self.answer_timeout = server, fake, answer_timeout
        self.tally, self.pending = Tally(), []
        self.counter = itertools.count()
        self.lock = threading.Lock()
        self.seen = 0  # fake Slack calls already sorted into `answers`
        self.answers: dict[str, list] = {}  # response_url name, thread ts or DM channel -> the calls that answer it
        self.admin_dm: dict[str, int] = {}  # an admin command -> how many messages the admin's DM had when it was sent

    def _post(self, body: str, content_type: str) -> tuple[int, float]:
        import urllib.error
        import urllib.request

        request = urllib.request.Request(self.server.url, data=body.encode(), method="POST",
                                         headers=signed_headers(SIGNING_SECRET, body, content_type=content_type))
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
                return response.status, time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, time.monotonic() - started
        except OSError:
            return -1, time.monotonic() - started

    def _track(self, kind: str, key: str, status: int, seconds: float, *, admin: bool = False) -> None:
        with self.tally.lock:
            self.tally.sent += 1
            self.tally.ack_seconds.append(seconds)
        if status != 200 or seconds >= 3.0:
            self.tally.fail(f"{kind}: HTTP {status} after {seconds:.2f}s")
            return
        with self.lock:
            self.pending.append(Pending(kind, key, time.monotonic(), admin))

    def slash(self, command: str, text: str, *, admin: bool = False) -> str:
        number = next(self.counter)
        name = f"soak-{number}"
        # Many people, as in a workspace: one user sending the same command and text within [slack]
        # double_submit_s is answered once on purpose, which a soak with one user would count as lost.
        user = ADMIN if admin else f"USOAK{number % 500:04d}"
        if admin:  # long work reports in one DM message, kept current (chat.update): the outcome is its last text
            self.admin_dm[name] = len(self.fake.posts("D" + ADMIN[1:]))
        body = slash_command_body(command, text, user_id=user, channel_id="C0GENERAL",
                                  response_url=self.fake.response_url(name))
        status, seconds = self._post(body, FORM)
        self._track(f"{command} {text.split()[0] if text else ''}".strip(), name, status, seconds, admin=admin)
        return name

    def mention(self, text: str, *, direct: bool = False) -> None:
        number = next(self.counter)
        ts = f"{1800000000 + number}.000100"
        channel = f"DSOAK{number}"  # a DM is answered in the DM, not in a thread: one channel per message to match it
        event = {"type": "message", "channel_type": "im", "channel": channel} if direct else \
            {"type": "app_mention", "channel": "C0GENERAL"}
        event.update({"user": f"USOAK{number % 500:04d}", "ts": ts, "event_ts": ts,
                      "text": text if direct else f"<@{BOT_USER_ID}> {text}"})
        body = event_body(event, event_id=f"EvSOAK{number}")
        status, seconds = self._post(body, "application/json")
        self._track("dm" if direct else "mention", channel if direct else ts, status, seconds)

    def check(self, *, final: bool = False) -> None:
        """Settle pending requests: answered (an error answer is a failure) or overdue."""
        now = time.monotonic()
        with self.lock:
            pending, self.pending = self.pending, []
        keep = []
        self._sort_new_calls()
        for item in pending:
            calls = self.answers.get(item.key, [])
            if item.admin:  # progress messages come first; the last one is the outcome
                calls = [c for c in calls if not str(c.body.get("text", "")).startswith((":hourglass", "`"))]
            if calls:
                text = str(calls[-1].body.get("text", ""))
                with self.tally.lock:
                    self.tally.answered += 1
                    self.tally.answer_seconds.append(calls[-1].at - item.sent_at)
                if text.startswith(":warning:"):
                    self.tally.fail(f"{item.kind}: error answer {text[:160]!r}")
            elif final or now - item.sent_at > self.answer_timeout:
                self.tally.fail(f"{item.kind}: no answer within {now - item.sent_at:.0f}s")
            else:
                keep.append(item)
        with self.lock:
            self.pending.extend(keep)

    def _sort_new_calls(self) -> None:
        """Only the calls since last time: scanning them all each second slowed the harness (and its acks) down."""
        with self.fake._lock:
            new, self.seen = self.fake.calls[self.seen:], len(self.fake.calls)
        for call in new:
            if not call.accepted:  # Slack refused it: no answer reached anyone (the fake's violations say why)
                continue
            if call.path.startswith("/response/"):
                self.answers.setdefault(call.path.removeprefix("/response/"), []).append(call)
            elif call.path == "/api/chat.postMessage":
                key = call.body.get("thread_ts") or call.body.get("channel")
                self.answers.setdefault(key, []).append(call)

    def last_answer(self, name: str) -> str:
        """What a command answered last: at its response_url, or (long admin work) in the DM message it keeps current."""
        self._sort_new_calls()
        calls = self.answers.get(name, [])
        text = str(calls[-1].body.get("text", "")) if calls else ""
        dm = self.fake.posts("D" + ADMIN[1:])
        if text.startswith("On it") and name in self.admin_dm and len(dm) > self.admin_dm[name]:
            return str(dm[self.admin_dm[name]]["text"])
        return text


def mix(traffic: Traffic, step: int) -> None:
    """One request of the mix: every plugin, as slash commands, mentions and direct messages."""
    sentence = SENTENCES[step % len(SENTENCES)]
    choices = [
        lambda: traffic.slash("/sentiment", sentence),
        lambda: traffic.slash("/entities", sentence),
        lambda: traffic.slash("/summarize", " ".join(SENTENCES)),
        lambda: traffic.slash("/translate", f"to fr {sentence}"),
        lambda: traffic.slash("/search", "when do we deploy"),
        lambda: traffic.slash("/ask", "what day is pizza day?"),
        lambda: traffic.slash("/nlp", "help"),
        lambda: traffic.mention(f"sentiment {sentence}"),
        lambda: traffic.mention("ask how often do passwords rotate?"),
        lambda: traffic.mention(f"entities {sentence}", direct=True),
    ]
    choices[step % len(choices)]()


def process_stats(pid: int) -> dict[str, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {"rss_mb": int(fields["VmRSS"].split()[0]) / 1024, "threads": int(fields["Threads"]),
            "fds": len(os.listdir(f"/proc/{pid}/fd")), "load": os.getloadavg()[0]}


def serving_versions(workdir: Path) -> list[str]:
    from bot.models import versions

    return [v.version for v in versions.list_versions(workdir / "models", "sentiment")]


def soak(args: argparse.Namespace) -> dict:
    workdir = Path(args.workdir).resolve()
    print(f"preparing {workdir} ...", flush=True)
    config = prepare(workdir)
    fake = FakeSlack().start()
    load_before, starting = os.getloadavg()[0], time.monotonic()
    server = BotServer(config, fake, env={"PYTHONPATH": str(ROOT)}, args=["--warm"], start_timeout_s=900)
    warm_s = time.monotonic() - starting
    print(f"warmed and listening after {warm_s:.0f} s", flush=True)
    traffic = Traffic(server, fake, answer_timeout=args.answer_timeout)
    duration, samples, events = args.minutes * 60, [], []
    started = time.monotonic()
    admin_steps = {"retrain": duration / 3, "promote": duration / 2, "reindex": duration * 2 / 3}
    admin_names: dict[str, str] = {}
    first_version = serving_versions(workdir)[-1]
    stop = threading.Event()

    def sample() -> None:
        while True:
            elapsed = time.monotonic() - started
            stats = process_stats(server.process.pid)
            with traffic.tally.lock:
                stats.update(minute=elapsed / 60, sent=traffic.tally.sent, failed=len(traffic.tally.failures))
            samples.append(stats)
            print(f"[{elapsed / 60:5.1f} min] rss {stats['rss_mb']:.1f} MB, threads {stats['threads']}, "
                  f"fds {stats['fds']}, sent {stats['sent']}, failed {stats['failed']}, load {stats['load']:.1f}",
                  flush=True)
            if stop.wait(args.sample_s):
                return

    def send(worker: int) -> None:
        step = worker
        while not stop.is_set():
            mix(traffic, step)
            step += args.clients
            stop.wait(args.clients / args.rate)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    clients = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(args.clients)]
    for client in clients:
        client.start()
    try:
        while (elapsed := time.monotonic() - started) < duration:
            for step, at in admin_steps.items():
                retrained = "retrain" in admin_names and traffic.last_answer(admin_names["retrain"]).startswith("Trained")
                if step == "promote" and not retrained:
                    continue  # the promotion swaps back to the version the retrain replaced
                if step not in admin_names and elapsed >= at:
                    text = {"retrain": "train sentiment --force", "reindex": "reindex docs",
                            "promote": f"promote sentiment {first_version}"}[step]
                    admin_names[step] = traffic.slash("/nlp-admin", text, admin=True)
                    events.append((elapsed / 60, f"/nlp-admin {text}"))
                    print(f"[{elapsed / 60:5.1f} min] /nlp-admin {text}", flush=True)
            traffic.check()
            time.sleep(1.0)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=15)
        deadline = time.monotonic() + args.answer_timeout
        while traffic.pending and time.monotonic() < deadline:
            traffic.check()
            time.sleep(1.0)
        traffic.check(final=True)
        sampler.join(timeout=5)
        samples.append({**process_stats(server.process.pid), "minute": (time.monotonic() - started) / 60,
                        "sent": traffic.tally.sent, "failed": len(traffic.tally.failures)})
        alive = server.process.poll() is None
        server.stop()
        fake.stop()
    refused = list(fake.violations)
    outcomes = {step: traffic.last_answer(name) for step, name in admin_names.items()}
    return {"samples": samples, "events": events, "tally": traffic.tally, "alive": alive, "outcomes": outcomes,
            "versions": serving_versions(workdir), "log": server.log, "refused": refused, "warm_s": warm_s, "load_before": load_before}


def verdicts(result: dict, warmup_min: float) -> list[tuple[str, bool, str]]:
    samples, tally = result["samples"], result["tally"]
    after = [s for s in samples if s["minute"] >= warmup_min] or samples[-1:]
    base, last = after[0], samples[-1]
    growth = (last["rss_mb"] - base["rss_mb"]) / base["rss_mb"] * 100
    peak = max(s["rss_mb"] for s in after)
    thread_span = max(s["threads"] for s in after) - min(s["threads"] for s in after)
    fd_span = max(s["fds"] for s in after) - min(s["fds"] for s in after)
    return [
        ("failed requests", not tally.failures and result["alive"],
         f"{len(tally.failures)} of {tally.sent} failed; server {'alive' if result['alive'] else 'DIED'} at the end"),
        ("Slack accepted every call", not result["refused"],
         f"{len(result['refused'])} refusal(s) or broken rule(s)"
         + (f", first: {result['refused'][0][:160]!r}" if result["refused"] else "")),
        ("RSS growth after warm-up < 5%", growth < 5.0,
         f"{base['rss_mb']:.1f} MB at {base['minute']:.1f} min -> {last['rss_mb']:.1f} MB at the end "
         f"({growth:+.1f}%; peak {peak:.1f} MB)"),
        ("threads flat", last["threads"] <= base["threads"] + 2,
         f"{base['threads']} -> {last['threads']} (range after warm-up {thread_span})"),
        ("open files flat", last["fds"] <= base["fds"] + 2,
         f"{base['fds']} -> {last['fds']} (range after warm-up {fd_span})"),
        ("hot swaps", all(text and not text.startswith((":warning:", "On it")) for text in result["outcomes"].values()),
         "; ".join(f"{step}: {text[:100]!r}" for step, text in result["outcomes"].items())),
    ]


def report(result: dict, args: argparse.Namespace) -> str:
    tally, samples = result["tally"], result["samples"]
    warmup = min(args.warmup_min, args.minutes / 3)
    checks = verdicts(result, warmup)
    loads = [result["load_before"]] + [s["load"] for s in samples]
    cores = os.cpu_count() or 1
    shared = max(loads) > cores  # more runnable work than cores at some point: someone else used the machine too

    def pct(values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))] if values else float("nan")

    lines = [
        "# Soak test", "",
        f"`python bench/soak.py --minutes {args.minutes:g} --rate {args.rate:g}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"`nlpbot run --adapter http --warm` in its own process (every model loaded before the port listened: "
        f"{result['warm_s']:.0f} s) against the fake Slack Web API (tests/support/fakeslack.py), "
        f"{args.clients} clients sending about {args.rate:g} requests/s of every plugin as slash commands, mentions "
        "and direct messages; a retrain with promotion and hot swap at 1/3, a promotion of the previous version "
        "(a second hot swap) at 1/2 and a re-index at 2/3, under the same traffic."
        + (f" Code: commit {args.code}." if args.code else ""), "",
        f"Machine: {platform.platform()}, {cores} CPU cores, Python {platform.python_version()}. 1-minute load "
        f"average {result['load_before']:.1f} before the start, {min(loads):.1f}-{max(loads):.1f} during the run: "
        + ("**shared**: other work ran on the same cores (the load column), so latencies are pessimistic; memory, "
           "threads and files are not affected by the sharing." if shared else "an idle machine but for this run."),
        "",
        "## Verdicts", "",
        f"Baseline for the flat checks: minute {warmup:g} (models are loaded before the start; the worker threads "
        "and caches fill with the first requests).", "",
        "| check | verdict | figures |", "|---|---|---|",
        *[f"| {name} | {'PASS' if ok else 'FAIL'} | {text} |" for name, ok, text in checks], "",
        f"Requests: {tally.sent} sent, {tally.answered} answered. Ack latency p50 {pct(tally.ack_seconds, .5) * 1000:.0f} ms, "
        f"p99 {pct(tally.ack_seconds, .99) * 1000:.0f} ms, max {max(tally.ack_seconds, default=0) * 1000:.0f} ms; "
        f"answer latency p50 {pct(tally.answer_seconds, .5):.2f} s, p99 {pct(tally.answer_seconds, .99):.2f} s.",
        f"Sentiment versions at the end: {', '.join(result['versions'])}.", "",
        "## Each minute (the server process)", "",
        "| minute | RSS MB | threads | open fds | requests sent | failed | load avg |", "|---|---|---|---|---|---|---|",
        *[f"| {s['minute']:.1f} | {s['rss_mb']:.1f} | {s['threads']} | {s['fds']} | {s['sent']} | {s['failed']} | "
          f"{s['load']:.1f} |" for s in samples], "",
        "## Admin actions", "",
        *[f"- {minute:.1f} min: `{text}`" for minute, text in result["events"]], "",
    ]
    if tally.failures:
        lines += ["## Failures (first 20)", "", *[f"- {failure}" for failure in tally.failures[:20]], ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="3 minutes, a sample every 20 s")
    parser.add_argument("--check", action="store_true", help="2 minutes, a sample every 15 s: does the harness run?")
    parser.add_argument("--rate", type=float, default=2.0, help="requests per second, all clients together")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--sample-s", type=float, default=60.0)
    parser.add_argument("--answer-timeout", type=float, default=120.0)
    parser.add_argument("--warmup-min", type=float, default=2.0, help="minutes before the RSS and threads baseline")
    parser.add_argument("--workdir", default="/tmp/nlpbot-soak")
    parser.add_argument("--out", default=str(ROOT / "bench" / "SOAK.md"))
    parser.add_argument("--code", default="", help="the commit under test, for the report")
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.sample_s = 3.0, 20.0
    if args.check:
        args.minutes, args.sample_s, args.warmup_min = 2.0, 15.0, 0.5
    result = soak(args)
    text = report(result, args)
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0 if not result["tally"].failures and result["alive"] else 1


if __name__ == "__main__":
    sys.exit(main())
