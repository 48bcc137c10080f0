"""`nlpbot models list|show|promote|rollback|export`: a plugin's trained versions, and which one serves."""

from __future__ import annotations

import argparse
import json

from bot.bootstrap import bootstrap
from bot.errors import NlpbotError, UsageError


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="list, show, promote, roll back or export (ONNX) trained versions")
    models.add_argument("action", choices=["list", "show", "promote", "rollback", "export"])
    models.add_argument("plugin", nargs="?", help="list: default every trainable plugin")
    models.add_argument("version", nargs="?")
    models.add_argument("--json", action="store_true", help="list and show: JSON")
    models.add_argument("--quantize", choices=["none", "int8"], help="export: default [plugins.PLUGIN] quantize")
    models.add_argument("--force", action="store_true", help="export: make it again even if it is up to date")
    models.set_defaults(handler=cmd_models)


def cmd_models(args: argparse.Namespace) -> int:
    from bot.models import versions
    from bot.plugin_manager import trainable, trainable_plugins

    config = bootstrap(getattr(args, "config", None))
    models_dir = config.models_dir
    plugin, version = args.plugin, args.version
    if plugin is not None:
        trainable(config, plugin)  # an unknown plugin is a usage error, not an empty list
    elif args.action != "list":
        raise UsageError(f"which plugin? `nlpbot models {args.action} PLUGIN`")
    if args.action == "list":
        plugins = [plugin] if plugin else list(trainable_plugins(config))
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
        from bot.exports import promote

        before = promote(config, plugin, version)
        print(f"{plugin}: {version} now serves" + (f" (was {before})" if before and before != version else ""))
        return 0
    target = versions.rollback(models_dir, plugin)
    print(f"{plugin}: rolled back; {target} serves again")
    return 0


def _export(config, plugin: str, version: str | None, args: argparse.Namespace) -> int:
    """`nlpbot models export PLUGIN [VERSION]`: the ONNX export (and int8, if asked for) made ahead of serving."""
    from bot.exports import export_plugin

    made = export_plugin(config, plugin, version, quantize=args.quantize, force=args.force)
    if args.json:
        print(json.dumps(made))
    else:
        print(f"{plugin}: {made['model']}{' ' + made['version'] if made['version'] else ''} exported to "
              f"{made['folder']}; serves as {made['serves']}")
        if made["int8"]:
            print(f"int8: {json.dumps(made['int8'])}")
    from bot.plugin_manager import configured

    wanted = args.quantize or getattr((configured(config, plugin) or (None, None))[1], "quantize", None)
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
