"""The plugin contract: commands, help, settings and a training kind; models come from the hub, never loaded here.

A plugin is a class with a `name`, a `Settings` schema for its `[plugins.NAME]` table, and methods
decorated with `@command` (or `@subcommand`); the docstring of a command is its help text. The constructor must be
cheap: models are asked for on first use (or in `warm_up`). What the adapters and the CLI need besides, a plugin
declares: `feedback()`, `shortcuts`, `forms()` and `predict_options` (bot.declarations, bot.feedback).

Example::

    class Shout(Plugin):
        name = "shout"
        description = "Repeats your text, louder."

        @command(usage="/shout TEXT")
        def shout(self, request: Request) -> Reply:
            \"\"\"Say it again, in capitals.\"\"\"
            return Reply(text=request.require_text().upper())

Batch use (`nlpbot predict PLUGIN`) calls `predict(texts, **options)`; the options a plugin takes are the ones
it declares, which become its flags on the command line::

        predict_options = (Option("times", type=int, help="repeat each text this often"),)

        def predict(self, texts, **options):   # nlpbot predict shout --times 2 -> predict(texts, times=2)
            return [{"text": text, "shout": text.upper() * (options.get("times") or 1)} for text in texts]

A command with subcommands, each with its own usage, help and flags (`/shout help twice`)::

        @subcommand("twice", of="shout", usage="/shout twice TEXT [--gap N]", options=(Option("gap", type=int),))
        def twice(self, request: Request, args: list[str], gap: int = 1) -> Reply:
            \"\"\"Say it twice.\"\"\"
            return Reply(text=(" " * gap).join([" ".join(args).upper()] * 2))
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from bot.config import PluginSettings
from bot.declarations import CommandSpec, Form, Input, Option, Shortcut, SubcommandSpec, command, declared_commands, subcommand
from bot.feedback import Feedback
from bot.reply import Reply
from bot.request import Request

if TYPE_CHECKING:
    from bot.config import Config
    from bot.models import ModelHandle, ModelHub
    from bot.scheduler import Scheduler
    from bot.search import IndexManager

__all__ = ["Plugin", "PluginSettings", "CommandSpec", "SubcommandSpec", "Option", "command", "subcommand", "Services",
           "Request", "Reply", "Feedback", "Shortcut", "Form", "Input"]


@dataclass
class Services:
    """What the core hands every plugin: the config, the model hub, the other plugins, the scheduler and the indexes.

    The core (bot/core.py) says how to build the scheduler and the index manager; each is built once, on first
    use, so building the bot stays cheap. A plugin uses these and never constructs its own.
    """

    config: Config
    hub: ModelHub
    build_scheduler: Callable[[], Scheduler] = field(repr=False)
    build_indexes: Callable[[], IndexManager] = field(repr=False)
    plugins: dict[str, Plugin] = field(default_factory=dict)  # every enabled plugin by name, once all are built
    _built: dict[str, Any] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def scheduler(self) -> Scheduler:
        """The bot's one scheduler: started by `nlpbot run` with [schedule] enabled, else not started, and a job
        it is given (a recap subscription) runs from the bot's next start."""
        return self._once("scheduler", self.build_scheduler)

    @property
    def scheduler_running(self) -> bool:
        with self._lock:
            scheduler = self._built.get("scheduler")
        return scheduler is not None and scheduler.running

    @property
    def indexes(self) -> IndexManager:
        """The one manager of the [search] indexes: each index opened once, whichever plugin asks."""
        return self._once("indexes", self.build_indexes)

    def _once(self, name: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            return self._built[name]


class Plugin:
    """Base class for plugins. Subclasses set `name` and decorate commands with `@command`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Settings: ClassVar[type[PluginSettings]] = PluginSettings
    training_kind: ClassVar[str | None] = None  # "sequence-classification", "token-classification", "seq2seq", ...
    labels: ClassVar[tuple[str, ...] | None] = None
    training_metric: ClassVar[str | None] = None  # what decides promotion, e.g. "bleu"; default: the kind's own
    predict_options: ClassVar[tuple[Option, ...]] = ()  # what `predict` takes, as `nlpbot predict PLUGIN --NAME`

    def __init__(self, *, settings: PluginSettings, services: Services) -> None:
        self.settings = settings
        self.services = services

    @property
    def config(self) -> Config:
        return self.services.config

    @classmethod
    def commands(cls) -> list[CommandSpec]:
        return declared_commands(cls, cls.name)

    # -- what the adapters and the command line read (bot.declarations, bot.feedback) ------------------
    shortcuts: ClassVar[tuple[Shortcut, ...]] = ()  # message shortcuts in Slack, each running one of these commands

    def feedback(self) -> Feedback | None:
        """What people may correct in this plugin's answers ("wrong?" buttons), or None. Asked per answer, so a
        plugin instance may say it from its config or its trained model (a classifier's labels)."""
        return None

    def forms(self) -> tuple[Form, ...]:
        """The forms this plugin's commands open where a chat has them (asked each time: choices stay current)."""
        return ()

    def warm_up(self) -> None:
        """Load the models this plugin needs, so the first request does not wait. Optional."""

    @property
    def warms_in_background(self) -> bool:
        """Whether `warm_up` loads only ONNX Runtime models (a fraction of a second, no torch, no spaCy), so the core
        may run it in the background while Slack connects. A plugin whose warm-up imports more says False."""
        return self.settings.runtime == "onnx"

    def predict(self, texts: list[str], **options: Any) -> list[dict[str, Any]]:
        """Batch use (`nlpbot predict`): one JSON-able dict per text, in order; `options` are `predict_options`."""
        raise NotImplementedError(f"the {self.name} plugin has no batch predict")

    def model(self, kind: str, *, task: str = "", spec: str | None = None, what: str | None = None,
              runtime: str | None = None, **options: Any) -> ModelHandle:
        """This plugin's model from the hub, with its own device, dtype and batch size from config.

        `what` names the setting the spec came from, for error messages (default: plugins.NAME.model); `runtime`
        overrides the plugin's for a model that can only run one way (a seq2seq generator runs on torch).
        """
        return self.services.hub.get(
            kind,
            spec or self.settings.model or "",
            task=task,
            device=self.settings.device,
            dtype=self.settings.dtype,
            batch_size=self.settings.batch_size,
            max_wait_ms=self.settings.max_wait_ms,
            what=what or f"plugins.{self.name}.model",
            options=options or None,
            runtime=runtime or self.settings.runtime,
            quantize=self.settings.quantize,
        )

    @classmethod
    def served_model(cls, config: Config, settings: PluginSettings) -> str | None:
        """The model spec this plugin's trained kind serves in place of (its `model` setting by default)."""
        return settings.model

    @staticmethod
    def answering_version(handle: ModelHandle) -> str:
        """The model version a handle serves now (a trained version, else its spec): what a feedback click records."""
        info = handle.info
        return str(info.get("version") or info.get("spec") or "default")

    @property
    def max_text_chars(self) -> int:
        return self.settings.max_text_chars or self.config.bot.max_text_chars
