"""`nlpbot data vader|beir|feedback`: training data from VADER's rated sentences, BEIR qrels, or people's clicks."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.errors import UsageError


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
    from bot.errors import UserInputError
    from bot.feedback import FeedbackStore
    from bot.training.plugins import trainable

    if not args.source:
        raise UserInputError("Which plugin? `nlpbot data feedback sentiment --out FILE`")
    trainable(args.source)  # an unknown plugin is a usage error
    out = Path(args.out) if args.out else config.resolve_path(f"data/feedback-{args.source}.jsonl")
    store = FeedbackStore.for_config(config)
    try:
        count = store.export(args.source, out)
    finally:
        store.close()
    if not count:
        out.unlink(missing_ok=True)
        raise UserInputError(f"No feedback for {args.source} yet: people give it with the buttons under its answers.")
    print(f"{out}: {count} example{'s' if count != 1 else ''} from feedback; "
          f"train with `nlpbot train {args.source} --data {out}`")
    return 0


def _beir_pairs(args: argparse.Namespace, config) -> int:
    from bot.search.beir import training_pairs

    if not args.source:
        raise UsageError("nlpbot data beir FOLDER [--split train] [--out FILE]: name the BEIR folder")
    pairs = training_pairs(args.source, args.split)
    name = Path(args.source).resolve().name
    out = Path(args.out) if args.out else config.resolve_path(f"data/beir-{name}-{args.split}.jsonl")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(pair, ensure_ascii=False) + "\n" for pair in pairs), encoding="utf-8")
    hard = sum("negative" in pair for pair in pairs)
    print(f"{out}: {len(pairs)} query/positive pairs from {len({pair['query'] for pair in pairs})} {args.split} "
          f"queries, {hard} with a hard negative (train with `nlpbot train search --data {out}`)")
    return 0
