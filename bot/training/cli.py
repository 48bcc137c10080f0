"""The `nlpbot train`, `nlpbot models` and `nlpbot data` commands.

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

from bot.errors import UsageError

def trainable_plugins() -> dict[str, tuple[str, list[str] | None]]:
    """plugin -> (training kind, declared labels), from each plugin class's `training_kind` and `labels`."""
    from bot.plugin_manager import discover

    found = {}
    for name, load in sorted(discover().items()):
        cls = load()
        if getattr(cls, "training_kind", None):
            found[name] = (cls.training_kind, list(cls.labels) if cls.labels else None)
    return found


def training_kind(plugin: str) -> tuple[str, list[str] | None]:
    trainable = trainable_plugins()
    if plugin not in trainable:
        raise UsageError(f"{plugin!r} cannot be trained; trainable plugins: {', '.join(trainable)}")
    return trainable[plugin]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `train`, `models` and `data` to the nlpbot command line."""
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
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(handler=cmd_train)

    models = subparsers.add_parser("models", help="list, show, promote or roll back trained versions")
    models.add_argument("action", choices=["list", "show", "promote", "rollback"])
    models.add_argument("plugin", nargs="?", help="list: default every trainable plugin")
    models.add_argument("version", nargs="?")
    models.add_argument("--json", action="store_true", help="list and show: JSON")
    models.set_defaults(handler=cmd_models)

    data = subparsers.add_parser("data", help="prepare default training data")
    data.add_argument("dataset", choices=["vader"])
    data.add_argument("--out", default=None, help="output folder (default data/vader next to the config)")
    data.add_argument("--sdist", default=None, help="a local vaderSentiment-3.3.2.tar.gz instead of downloading")
    data.set_defaults(handler=cmd_data)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_train(args: argparse.Namespace) -> int:
    from bot.bootstrap import bootstrap
    from bot.training.trainer import train

    config = bootstrap(getattr(args, "config", None))
    kind, labels = training_kind(args.plugin)
    if threading.current_thread() is threading.main_thread():
        # `kill PID` stops a run like Ctrl-C does: its scratch folder is removed, nothing serving changes.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = train(
            config, plugin=args.plugin, kind=kind, labels=labels, data=args.data, eval_data=args.eval_data,
            base=args.base, epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_steps=args.max_steps,
            max_length=args.max_length, seed=args.seed, force=args.force, nproc=args.nproc,
            progress=lambda line: print(line, file=sys.stderr, flush=True), show_bar=not args.quiet,
        )
    except KeyboardInterrupt:
        print("interrupted: nothing was changed", file=sys.stderr)
        return 130
    print(result.summary())
    print(f"saved to {result.path}; {result.serving or 'nothing'} serves {args.plugin}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from bot import registry
    from bot.bootstrap import bootstrap

    models_dir = bootstrap(getattr(args, "config", None)).models_dir
    plugin, version = args.plugin, args.version
    if plugin is not None:
        training_kind(plugin)  # an unknown plugin is a usage error, not an empty list
    elif args.action != "list":
        raise UsageError(f"which plugin? `nlpbot models {args.action} PLUGIN`")
    if args.action == "list":
        plugins = [plugin] if plugin else list(trainable_plugins())
        versions = {name: registry.list_versions(models_dir, name) for name in plugins}
        if args.json:
            print(json.dumps([_version_row(name, info) for name in plugins for info in versions[name]]))
            return 0
        for name in plugins:
            if plugin is None:
                print(f"{name}:")
            if not versions[name]:
                print(f"{'  ' if plugin is None else ''}no trained {name} versions in {models_dir / name}")
            for info in versions[name]:
                meta = info.metadata
                primary = meta.get("primary_metric", "")
                score = meta.get("metrics", {}).get(primary)
                shown = f"{primary} {score:.4f}" if isinstance(score, (int, float)) else "-"
                print(f"{'*' if info.serving else ' '} {info.version}  {shown}  {meta.get('base', '-')}  "
                      f"{meta.get('created', '-')}")
        return 0
    if args.action == "show":
        shown = registry.show(models_dir, plugin, version)
        print(json.dumps(shown) if args.json else json.dumps(shown, indent=2))
        return 0
    if args.action == "promote":
        if not version:
            raise UsageError(f"which version? `nlpbot models list {plugin}` shows them")
        before = registry.promote(models_dir, plugin, version)
        print(f"{plugin}: {version} now serves" + (f" (was {before})" if before and before != version else ""))
        return 0
    target = registry.rollback(models_dir, plugin)
    print(f"{plugin}: rolled back; {target} serves again")
    return 0


def _version_row(plugin: str, info) -> dict:
    """One version as `nlpbot models list --json` prints it."""
    meta = info.metadata
    return {"plugin": plugin, "version": info.version, "serving": info.serving, "path": str(info.path),
            "primary_metric": meta.get("primary_metric"), "metrics": meta.get("metrics", {}),
            "base": meta.get("base"), "created": meta.get("created")}


def cmd_data(args: argparse.Namespace) -> int:
    from bot.bootstrap import bootstrap
    from bot.training import vader

    config = bootstrap(getattr(args, "config", None))
    out = Path(args.out) if args.out else config.resolve_path("data/vader")
    report = vader.build(out, sdist=Path(args.sdist) if args.sdist else None)
    for split, counts in report["counts"].items():
        total = sum(counts.values())
        shares = ", ".join(f"{label} {n} ({100 * n / max(total, 1):.0f}%)" for label, n in counts.items())
        print(f"{report['files'][split]}: {total} examples: {shares}")
    print(f"neutral = mean human rating within ±{report['neutral_band']:g} (on -4..+4)")
    return 0
