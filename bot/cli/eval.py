"""`nlpbot eval PLUGIN --data FILE`: the test step alone, a trained version scored on labelled data."""

from __future__ import annotations

import argparse
import json

from bot.bootstrap import bootstrap


def register(subparsers: argparse._SubParsersAction) -> None:
    evaluate = subparsers.add_parser("eval", help="score a labelled file with a trained version (the test step)")
    evaluate.add_argument("plugin", help="a plugin with a training kind (`nlpbot models list` names them)")
    evaluate.add_argument("--data", required=True, metavar="FILE", help="labelled data, as for `nlpbot train`")
    evaluate.add_argument("--version", help="a trained version (default: the serving one)")
    evaluate.add_argument("--json", action="store_true",
                          help='print {"plugin", "version", "metrics": {...}, "examples": N}')
    evaluate.set_defaults(handler=cmd_eval)


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.plugin_manager import trainable
    from bot.training.evaluate import evaluate
    from bot.training.report import fmt

    config = bootstrap(getattr(args, "config", None))
    declared = trainable(config, args.plugin)  # an unknown or untrainable plugin is a usage error
    result = evaluate(config, args.plugin, args.data, kind=declared.kind, labels=declared.labels,
                      metric=declared.metric, out_of_scope_label=declared.out_of_scope_label,
                      version=args.version)  # a missing model exits 3 (bot.cli)
    if args.json:
        print(json.dumps(result.as_json()))
        return 0
    print(f"{result.plugin} {result.version}{' (serving)' if result.serving else ''}: "
          f"{result.examples} examples from {args.data}")
    scores = {name: value for name, value in result.metrics.items() if isinstance(value, (int, float))}
    width = max(len(name) for name in [*scores, "metric"])
    print(f"{'metric':<{width}}  value")
    for name, value in scores.items():
        mark = "  (decides promotion)" if name == result.primary_metric else ""
        print(f"{name:<{width}}  {fmt(value)}{mark}")
    per_label = result.metrics.get("per_label") or {}
    if per_label:  # a classifier's labels, one line each
        width = max(len(label) for label in [*per_label, "label"])
        print(f"\n{'label':<{width}}  precision  recall  f1      support")
        for label, row in per_label.items():
            print(f"{label:<{width}}  {row['precision']:<9.4f}  {row['recall']:<6.4f}  {row['f1']:<6.4f}  "
                  f"{row['support']}")
    return 0
