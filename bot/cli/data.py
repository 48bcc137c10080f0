"""`nlpbot data vader|beir|feedback`: training data from VADER's rated sentences, BEIR qrels, or people's clicks."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.errors import UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="prepare training data: vader, beir DIR, or feedback PLUGIN (Slack's buttons)")
    data.add_argument("dataset", choices=["vader", "beir", "feedback"])
    data.add_argument("source", nargs="?", metavar="DIR|PLUGIN",
                      help="beir: a BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv); "
                           "feedback: the plugin whose clicks to export (one with feedback buttons)")
    data.add_argument("--split", default="train", help="beir: the qrels split turned into pairs (default train)")
    data.add_argument("--out", default=None, help="vader: output folder (default data/vader next to the config); "
                      "beir: the pairs file (default data/beir-FOLDER-SPLIT.jsonl); "
                      "feedback: the JSON lines file (default data/feedback-PLUGIN.jsonl)")
    data.add_argument("--sdist", default=None, help="a local vaderSentiment-3.3.2.tar.gz instead of downloading")
    data.set_defaults(handler=cmd_data)


def cmd_data(args: argparse.Namespace) -> int:
    from bot.bootstrap import bootstrap
    from bot.training import vader

    config = bootstrap(getattr(args, "config", None))
    if args.dataset == "feedback":
        return _export_feedback(config, args)
    if args.dataset == "beir":
        return _beir_pairs(args, config)
    out = Path(args.out) if args.out else config.resolve_path("data/vader")
    report = vader.build(out, sdist=Path(args.sdist) if args.sdist else None)
    for split, counts in report["counts"].items():
        total = sum(counts.values())
        shares = ", ".join(f"{label} {n} ({100 * n / max(total, 1):.0f}%)" for label, n in counts.items())
        print(f"{report['files'][split]}: {total} examples: {shares}")
    print(f"neutral = mean human rating within ±{report['neutral_band']:g} (on -4..+4)")
    return 0


def _export_feedback(config, args: argparse.Namespace) -> int:
    from bot.core import Nlpbot
    from bot.errors import UserInputError
    from bot.feedback import FeedbackStore

    plugins = Nlpbot(config).plugins  # each plugin's feedback() says the record shape its corrections make
    declared = {name: plugin.feedback() for name, plugin in plugins.items()}
    offering = ", ".join(name for name, feedback in declared.items() if feedback) or "none"
    if not args.source:
        raise UserInputError(f"Which plugin? `nlpbot data feedback PLUGIN --out FILE` (with feedback: {offering})")
    if declared.get(args.source) is None:
        raise UserInputError(f"{args.source!r} is no enabled plugin with feedback buttons; those with them: {offering}")
    out = Path(args.out) if args.out else config.resolve_path(f"data/feedback-{args.source}.jsonl")
    store = FeedbackStore.for_config(config)
    try:
        count = store.export(args.source, out, declared[args.source])
    finally:
        store.close()
    if not count:
        out.unlink(missing_ok=True)
        raise UserInputError(f"No feedback for {args.source} yet: people give it with the buttons under its answers.")
    print(f"{out}: {count} example{'s' if count != 1 else ''} from feedback; "
          f"train with `nlpbot train {args.source} --data {out}`")
    return 0


def _beir_pairs(args: argparse.Namespace, config) -> int:
    from bot.search.beir import write_training_pairs
    from bot.plugin_manager import plugins_of_kind

    if not args.source:
        raise UsageError("nlpbot data beir FOLDER [--split train] [--out FILE]: name the BEIR folder")
    name = Path(args.source).resolve().name
    out = Path(args.out) if args.out else config.resolve_path(f"data/beir-{name}-{args.split}.jsonl")
    pairs = write_training_pairs(args.source, args.split, out)
    hard = sum("negative" in pair for pair in pairs)
    trainer = (plugins_of_kind(config, "sentence-embeddings") or ["PLUGIN"])[0]  # the plugin whose embeddings learn from pairs
    print(f"{out}: {len(pairs)} query/positive pairs from {len({pair['query'] for pair in pairs})} {args.split} "
          f"queries, {hard} with a hard negative (train with `nlpbot train {trainer} --data {out}`)")
    return 0
