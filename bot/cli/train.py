"""The `nlpbot train`, `nlpbot eval`, `nlpbot models` and `nlpbot data` commands.

The core's command line (`bot.cli`) calls `register(subparsers)`; each command sets `handler`, which takes
the parsed args (with `args.config`) and returns an exit code.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from bot.errors import NlpbotError, UsageError

def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train`, `eval`, `models` and `data` to the nlpbot command line."""
    train = subparsers.add_parser("train", help="fine-tune a plugin's model and promote it if it is at least as good")
    train.add_argument("plugin", help="a plugin with a training kind: sentiment, ner, summarize, translate, search")
    train.add_argument("--data", help="training data (JSON lines; CoNLL for ner); default [training.PLUGIN] data")
    train.add_argument("--eval-data", help="evaluation data; default: 10%% held out from --data")
    train.add_argument("--base", help="model to start from: path, package:MODULE, trained:PLUGIN or hub id")
    train.add_argument("--epochs", type=float)
    train.add_argument("--lr", type=float, help="learning rate")
    train.add_argument("--batch-size", type=int)
    train.add_argument("--max-steps", type=int, help="stop after this many optimizer steps")
    train.add_argument("--max-length", type=int, help="tokens per example")
    train.add_argument("--seed", type=int)
    train.add_argument("--force", action="store_true", help="promote even if it scores worse than the serving version")
    train.add_argument("--nproc", type=int, default=1, help="data-parallel processes (GPUs, or CPU processes)")
    train.add_argument("--nnodes", type=int, default=1, help="machines in the run (each runs this command)")
    train.add_argument("--node-rank", type=int, default=0, help="this machine's rank; node 0 writes the version")
    train.add_argument("--master-addr", help="node 0's address (host name or IP), where the nodes meet")
    train.add_argument("--master-port", type=int, default=29500, help="a free port on node 0")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--progress-lines", action="store_true",
                       help="progress as 'nlpbot-progress: ...' lines on stdout, for a program that runs this one")
    train.set_defaults(handler=cmd_train)

    evaluate = subparsers.add_parser("eval", help="score a labelled file with a trained version (the test step)")
    evaluate.add_argument("plugin", help="a plugin with a training kind: sentiment, ner, summarize, translate, search")
    evaluate.add_argument("--data", required=True, metavar="FILE", help="labelled data, as for `nlpbot train`")
    evaluate.add_argument("--version", help="a trained version (default: the serving one)")
    evaluate.add_argument("--json", action="store_true",
                          help='print {"plugin", "version", "metrics": {...}, "examples": N}')
    evaluate.set_defaults(handler=cmd_eval)

    models = subparsers.add_parser("models", help="list, show, promote, roll back or export (ONNX) trained versions")
    models.add_argument("action", choices=["list", "show", "promote", "rollback", "export"])
    models.add_argument("plugin", nargs="?", help="list: default every trainable plugin")
    models.add_argument("version", nargs="?")
    models.add_argument("--json", action="store_true", help="list and show: JSON")
    models.add_argument("--quantize", choices=["none", "int8"], help="export: default [plugins.PLUGIN] quantize")
    models.add_argument("--force", action="store_true", help="export: make it again even if it is up to date")
    models.set_defaults(handler=cmd_models)

    data = subparsers.add_parser("data", help="prepare training data: vader, beir DIR, or feedback PLUGIN (Slack's buttons)")
    data.add_argument("dataset", choices=["vader", "beir", "feedback"])
    data.add_argument("source", nargs="?", metavar="DIR|PLUGIN",
                      help="beir: a BEIR folder (corpus.jsonl, queries.jsonl, qrels/SPLIT.tsv); "
                           "feedback: the plugin whose clicks to export (sentiment, ner)")
    data.add_argument("--split", default="train", help="beir: the qrels split turned into pairs (default train)")
    data.add_argument("--out", default=None, help="vader: output folder (default data/vader next to the config); "
                      "beir: the pairs file (default data/beir-FOLDER-SPLIT.jsonl); "
                      "feedback: the JSON lines file (default data/feedback-PLUGIN.jsonl)")
    data.add_argument("--sdist", default=None, help="a local vaderSentiment-3.3.2.tar.gz instead of downloading")
    from bot.cli.data import cmd_data

    data.set_defaults(handler=cmd_data)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_train(args: argparse.Namespace) -> int:
    from bot.bootstrap import bootstrap
    from bot.training.plugins import trainable
    from bot.training.progress import emit
    from bot.training.run import train

    config = bootstrap(getattr(args, "config", None))
    declared = trainable(args.plugin)
    nodes = None
    if args.nnodes > 1 or args.node_rank:
        from bot.training.distributed import Nodes

        nodes = Nodes(args.nnodes, args.node_rank, args.master_addr or "", args.master_port)
    if threading.current_thread() is threading.main_thread():
        # `kill PID` stops a run like Ctrl-C does: its scratch folder is removed, nothing serving changes.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = train(
            config, plugin=args.plugin, kind=declared.kind, labels=declared.labels, metric=declared.metric,
            data=args.data, eval_data=args.eval_data,
            base=args.base, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_steps=args.max_steps,
            max_length=args.max_length, seed=args.seed, force=args.force, nproc=args.nproc, nodes=nodes,
            progress=emit if args.progress_lines else (lambda line: print(line, file=sys.stderr, flush=True)),
            show_bar=not (args.quiet or args.progress_lines),
        )
    except KeyboardInterrupt:
        print("interrupted: nothing was changed", file=sys.stderr)
        return 130
    if not result.version:  # a node other than 0
        print(f"{args.plugin}: {result.reason}; {result.serving or 'nothing'} serves on node 0's models")
        return 0
    print(result.summary())
    print(f"saved to {result.path}; {result.serving or 'nothing'} serves {args.plugin}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from bot.bootstrap import bootstrap
    from bot.training.evaluate import evaluate
    from bot.training.report import fmt

    config = bootstrap(getattr(args, "config", None))
    result = evaluate(config, args.plugin, args.data, version=args.version)  # a missing model exits 3 (bot.cli)
    if args.json:
        print(json.dumps(result.as_json()))
        return 0
    print(f"{result.plugin} {result.version}{' (serving)' if result.serving else ''}: "
          f"{result.examples} examples from {args.data}")
    width = max(len(name) for name in [*result.metrics, "metric"])
    print(f"{'metric':<{width}}  value")
    for name, value in result.metrics.items():
        mark = "  (decides promotion)" if name == result.primary_metric else ""
        print(f"{name:<{width}}  {fmt(value)}{mark}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from bot.bootstrap import bootstrap
    from bot.models import versions
    from bot.training.plugins import trainable, trainable_plugins

    config = bootstrap(getattr(args, "config", None))
    models_dir = config.models_dir
    plugin, version = args.plugin, args.version
    if plugin is not None:
        trainable(plugin)  # an unknown plugin is a usage error, not an empty list
    elif args.action != "list":
        raise UsageError(f"which plugin? `nlpbot models {args.action} PLUGIN`")
    if args.action == "list":
        plugins = [plugin] if plugin else list(trainable_plugins())
        listed = {name: versions.list_versions(models_dir, name) for name in plugins}
        if args.json:
            print(json.dumps([_version_row(name, info) for name in plugins for info in listed[name]]))
            return 0
        for name in plugins:
            if plugin is None:
                print(f"{name}:")
            if not listed[name]:
                print(f"{'  ' if plugin is None else ''}no trained {name} versions in {models_dir / name}")
            for info in listed[name]:
                meta = info.metadata
                print(f"{'*' if info.serving else ' '} {info.version}  {versions.metric_summary(meta, limit=1)}  "
                      f"{meta.get('base', '-')}  {meta.get('created', '-')}")
        return 0
    if args.action == "show":
        shown = versions.show(models_dir, plugin, version)
        print(json.dumps(shown) if args.json else json.dumps(shown, indent=2))
        return 0
    if args.action == "export":
        return _export(config, plugin, version, args)
    if args.action == "promote":
        if not version:
            raise UsageError(f"which version? `nlpbot models list {plugin}` shows them")
        from bot.training.export import export_plugin

        export_plugin(config, plugin, version, only_if_onnx=True)  # a bot serving on ONNX finds it ready
        before = versions.promote(models_dir, plugin, version)
        print(f"{plugin}: {version} now serves" + (f" (was {before})" if before and before != version else ""))
        return 0
    target = versions.rollback(models_dir, plugin)
    print(f"{plugin}: rolled back; {target} serves again")
    return 0


def _export(config, plugin: str, version: str | None, args: argparse.Namespace) -> int:
    """`nlpbot models export PLUGIN [VERSION]`: the ONNX export (and int8, if asked for) made ahead of serving."""
    from bot.training.export import export_plugin

    made = export_plugin(config, plugin, version, quantize=args.quantize, force=args.force)
    if args.json:
        print(json.dumps(made))
    else:
        print(f"{plugin}: {made['model']}{' ' + made['version'] if made['version'] else ''} exported to "
              f"{made['folder']}; serves as {made['serves']}")
        if made["int8"]:
            print(f"int8: {json.dumps(made['int8'])}")
    wanted = args.quantize or (config.plugins.get(plugin) or {}).get("quantize")
    if wanted == "int8" and made["serves"] != "int8":
        raise NlpbotError(f"int8 refused for {plugin}: it loses {made['int8']['loss_points']} points "
                          f"(tolerance {config.models.quantize_tolerance}); the fp32 export serves")
    return 0


def _version_row(plugin: str, info) -> dict:
    """One version as `nlpbot models list --json` prints it."""
    meta = info.metadata
    return {"plugin": plugin, "version": info.version, "serving": info.serving, "path": str(info.path),
            "primary_metric": meta.get("primary_metric"), "metrics": meta.get("metrics", {}),
            "base": meta.get("base"), "created": meta.get("created")}
