"""Admin commands: retrain a plugin in its own process, list and roll back model versions, re-index and drop indexes."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from bot.errors import UserInputError
from bot.feedback import feedback_line
from bot.models import versions
from bot.exports import promote
from bot.plugin import Form, Input, Option, Plugin, PluginSettings, Reply, Request, command, subcommand

log = logging.getLogger(__name__)

USAGE = ("/nlp-admin train PLUGIN [--epochs N] [--force] | train (a form for a data file) | models [PLUGIN] | "
         "promote PLUGIN VERSION | rollback PLUGIN | reindex [INDEX] | drop-index INDEX | jobs")
TRAIN_OPTIONS = (Option("epochs", type=float, metavar="N", help="passes over the data"),
                 Option("lr", type=float, metavar="RATE", help="learning rate"),
                 Option("max_steps", type=int, metavar="N", help="stop after this many optimizer steps"),
                 Option("batch_size", type=int, metavar="N", help="examples per step"),
                 Option("force", type=bool, help="promote even if it scores worse than the serving version"))


class AdminSettings(PluginSettings):
    train_timeout_s: float = Field(6 * 3600, gt=0, description="a training run taking longer is stopped")
    progress_every_s: float = Field(30.0, ge=0, description="at most one progress message this often")
    max_data_mb: float = Field(200.0, gt=0, description="largest training file an admin may share")


class AdminPlugin(Plugin):
    name = "admin"
    description = "Retrain plugins, manage model versions, re-index documents (admins only)."
    Settings = AdminSettings

    @command("nlp-admin", usage=USAGE, admin_only=True, accepts_empty=True)
    def admin(self, request: Request) -> Reply:
        """Admin tasks: train, models, promote, rollback, reindex, drop-index, jobs."""
        raise UserInputError(f"No such admin task. Usage: `{USAGE}`; `/nlp-admin help TASK` explains one.")

    def forms(self) -> tuple[Form, ...]:
        """`/nlp-admin train` alone: pick the plugin, attach the training data (Slack sends no files with a command)."""
        return (Form("nlp-admin", title="Retrain a model", submit="Train", opens_on="train", runs="{plugin}", inputs=(
            Input("plugin", "Plugin", kind="choice", choices=tuple(self._trainable())),
            Input("files", "Files", kind="files", optional=True,
                  hint="training data (JSON lines; CoNLL for ner); none: the data in config.toml"))),)

    def _trainable(self) -> list[str]:
        return sorted(p.name for p in self.services.plugins.values() if p.training_kind)

    def _plugin_arg(self, args: list[str], action: str) -> str:
        if not args:
            raise UserInputError(f"Which plugin? `/nlp-admin {action} PLUGIN`")
        name = args[0].lower()
        trainable = self._trainable()
        if name not in trainable:
            raise UserInputError(f"{name!r} is not a trainable plugin here; trainable: {', '.join(trainable)}")
        return name

    @subcommand("train", of="nlp-admin", usage="/nlp-admin train PLUGIN [--epochs N] [--lr RATE] [--max-steps N] "
                "[--batch-size N] [--force]", options=TRAIN_OPTIONS)
    def train(self, request: Request, args: list[str], **options: Any) -> Reply:
        """Retrain a plugin in its own process (the bot keeps answering), on [training.PLUGIN] data or a shared file;
        promoted only if it scores at least as well. The report comes in a DM.

        `/nlp-admin train` alone opens a form to attach the data file.
        """
        plugin = self._plugin_arg(args, "train")
        flags = [word for option in TRAIN_OPTIONS if option.name in options
                 for word in ([option.flag] if option.switch else [option.flag, str(options[option.name])])]
        from bot.training.launch import train_in_subprocess

        last_sent = [0.0]

        def progress(line: str) -> None:
            if time.monotonic() - last_sent[0] >= self.settings.progress_every_s:
                request.responder.send(Reply(text=f"`{line[:300]}`", in_channel=False))
                last_sent[0] = time.monotonic()

        request.responder.send(Reply(text=f":hourglass_flowing_sand: Training *{plugin}* in its own process; "
                                     "I keep answering everyone meanwhile.", in_channel=False))
        with tempfile.TemporaryDirectory(prefix="nlpbot-train-") as tmp:
            data = self._download(request, Path(tmp)) if request.files else None
            outcome = train_in_subprocess(self.config, plugin, data=data, flags=flags, on_progress=progress,
                                          timeout_s=self.settings.train_timeout_s)
        self.services.hub.refresh_trained()
        plot = outcome.version.path / "training.png"
        if plot.exists():
            request.responder.upload(str(plot), title=f"{plugin} {outcome.version.version}: loss and metric per epoch")
        promotion = outcome.version.metadata.get("promotion") or {}
        scores = versions.metric_summary(outcome.version.metadata)
        return Reply(title=f"Trained {plugin}", text=f"{outcome.summary()}.\n{scores}",
                     footer=promotion.get("reason"),
                     data={"plugin": plugin, "version": outcome.version.version, "promoted": outcome.promoted,
                           "metrics": outcome.version.metadata.get("metrics", {})})

    def _download(self, request: Request, folder: Path) -> Path:
        """The first file shared with the command: training data (JSON lines, or CoNLL for ner)."""
        from bot.search.shared_files import SAFE_NAME

        shared = request.files[0]
        path = folder / (SAFE_NAME.sub("_", shared.name).lstrip(".") or "data.jsonl")
        path.write_bytes(shared.fetch(max_bytes=int(self.settings.max_data_mb * 1024 * 1024)))
        return path

    @subcommand("models", of="nlp-admin", usage="/nlp-admin models [PLUGIN]")
    def models(self, request: Request, args: list[str]) -> Reply:
        """The trained versions of each plugin (or one), which one serves, and the feedback clicks so far."""
        names = [self._plugin_arg(args, "models")] if args else self._trainable()
        lines, data = [], {}
        for plugin in names:
            listed = versions.list_versions(self.config.models_dir, plugin)
            data[plugin] = [{"version": v.version, "serving": v.serving, "metrics": v.metadata.get("metrics", {})}
                            for v in listed]
            if not listed:
                lines.append(f"*{plugin}*: no trained versions")
                continue
            lines.append(f"*{plugin}*")
            lines += [f"{'• :white_check_mark:' if v.serving else '•'} `{v.version}` "
                      f"{versions.metric_summary(v.metadata)}" for v in listed[-5:]]
        lines.append(feedback_line(self.config, names))
        return Reply(title="Model versions", text="\n".join(lines), in_channel=False, data=data)

    @subcommand("promote", of="nlp-admin", usage="/nlp-admin promote PLUGIN VERSION")
    def promote(self, request: Request, args: list[str]) -> Reply:
        """Make a trained version serve now, whatever its scores (exported for ONNX Runtime first where it runs so)."""
        plugin = self._plugin_arg(args, "promote")
        if len(args) < 2:
            raise UserInputError(f"Which version? `/nlp-admin models {plugin}` lists them.")
        before = promote(self.config, plugin, args[1])  # exported for ONNX Runtime first, where it serves so
        self.services.hub.refresh_trained()
        return Reply(text=f"*{plugin}*: `{args[1]}` now serves (was `{before or 'nothing'}`).", in_channel=False,
                     data={"plugin": plugin, "serving": args[1], "previous": before})

    @subcommand("rollback", of="nlp-admin", usage="/nlp-admin rollback PLUGIN")
    def rollback(self, request: Request, args: list[str]) -> Reply:
        """Serve the version that served before the current one again."""
        plugin = self._plugin_arg(args, "rollback")
        target = versions.rollback(self.config.models_dir, plugin)
        self.services.hub.refresh_trained()
        return Reply(text=f"*{plugin}*: rolled back; `{target}` serves again.", in_channel=False,
                     data={"plugin": plugin, "serving": target})

    @subcommand("reindex", of="nlp-admin", usage="/nlp-admin reindex [INDEX]")
    def reindex(self, request: Request, args: list[str]) -> Reply:
        """Index every index's files again (new, changed and removed files), or one index's; stale embeddings are
        redone with the serving model."""
        from bot.search.reindex import reindex

        name = args[0] if args else None
        request.responder.send(Reply(text=f":hourglass_flowing_sand: Re-indexing {f'`{name}`' if name else 'every index'}…",
                                     in_channel=False))  # a live message: the report replaces it however long this takes
        report = reindex(self.config, name, hub=self.services.hub)
        return Reply(text=f"Re-indexed: {report}", in_channel=False, data={"report": report})

    @subcommand("drop-index", of="nlp-admin", usage="/nlp-admin drop-index INDEX")
    def drop_index(self, request: Request, args: list[str]) -> Reply:
        """Delete an index, its documents and vectors (refused while a write holds it)."""
        if not args:
            raise UserInputError("Which index? `/nlp-admin drop-index INDEX`")
        self.services.indexes.drop(args[0])  # refused while a write holds the index
        return Reply(text=f"Index `{args[0]}` dropped: its documents and vectors are deleted.", in_channel=False,
                     data={"dropped": args[0]})

    @subcommand("jobs", of="nlp-admin", usage="/nlp-admin jobs")
    def jobs(self, request: Request, args: list[str]) -> Reply:
        """The scheduled jobs (re-indexing, retraining, recaps) with their next and last runs."""
        from bot.scheduler import jobs_table

        jobs = self.services.scheduler.describe()  # not serving: the jobs as the bot's next start will run them
        return Reply(title="Scheduled jobs", text=f"```\n{jobs_table(jobs)}\n```", in_channel=False,
                     data={"jobs": [job.to_dict() for job in jobs]})
