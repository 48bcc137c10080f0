"""The bot itself: config, model hub, plugins and router, shared by every adapter."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from bot.config import Config
from bot.health import Health, plugin_source
from bot.models import ModelHub
from bot.plugin import Plugin, Services
from bot.plugin_manager import build_plugins
from bot.reply import Reply
from bot.request import Conversation, NoConversation
from bot.router import Router

if TYPE_CHECKING:
    from bot.scheduler import Scheduler
    from bot.search import IndexManager

log = logging.getLogger(__name__)


class Nlpbot:
    """Build once per process; `ask` is what every adapter (Slack, console, tests) ends up calling.

    Example::

        bot = Nlpbot(load_config("config.toml"))
        print(bot.ask("/sentiment I love this").text)
    """

    def __init__(self, config: Config, *, extra_plugins: dict[str, type[Plugin]] | None = None,
                 recap_source: Callable[[Config], Any] | None = None) -> None:
        self.config = config
        self.recap_source = recap_source  # how recaps read and post (the Slack adapter's), handed in by the CLI
        self.health = Health()  # what /healthz reports: a plugin without its model, and what adapters add
        self.hub = ModelHub(config)
        self.services = Services(config=config, hub=self.hub, build_scheduler=self._scheduler,
                                 build_indexes=self._indexes)
        self.plugins = build_plugins(config, self.services, extra=extra_plugins)
        self.services.plugins = self.plugins  # admin and home views list the plugins
        self.router = Router(self.plugins, config, health=self.health)

    def _scheduler(self) -> Scheduler:
        """Not started: `nlpbot run` starts it; `nlpbot ask` and `chat` list and change its jobs for the next start."""
        from bot.scheduler import Scheduler

        return Scheduler(self.config, bot=self, recap_source=self.recap_source)

    def _indexes(self) -> IndexManager:
        """Indexes built with an older model are read with that model, loaded by the hub, until rebuilt."""
        from bot.search import IndexManager
        from bot.search.document_vectors import DocumentEmbedders
        from bot.search.stale import hub_models

        return IndexManager(self.config.search, progress=False, models=hub_models(self.hub, self.config.models_dir),
                            documents=DocumentEmbedders(self.hub, self.config))

    def ask(
        self,
        text: str,
        *,
        user_id: str = "console",
        source: str = "console",
        slash_command: str | None = None,
        channel_id: str | None = None,
        thread_ts: str | None = None,
        conversation: Conversation | None = None,
        **extra: Any,
    ) -> Reply:
        """One message as a person would type it ("/sentiment I love this", "summarize ..."), in plain text: an
        adapter resolves its own markup first and passes the channels and people named as `channel_refs` and
        `user_refs` (bot.adapters.slack.markup does it for Slack and the console)."""
        request = self.router.parse(
            text,
            source=source,
            user_id=user_id,
            slash_command=slash_command,
            channel_id=channel_id,
            thread_ts=thread_ts,
            conversation=conversation or NoConversation(),
            **extra,
        )
        return self.router.handle(request)

    def check_models(self) -> dict[str, str]:
        """Which enabled plugins cannot answer for want of a model, and why (with the fix): each plugin's models are
        looked for, not loaded (a second or less). Each one found missing is reported to `health` (/healthz)."""
        for plugin in self.plugins.values():
            self.router.recheck(plugin)
        return self.unavailable()

    def refresh_models(self) -> list[str]:
        """What a running bot does every [schedule] model_check_s: swap in newly promoted models, and look again for
        the models of the plugins filed as unavailable (one trained or copied in since clears its mark)."""
        changed = self.hub.refresh_trained()
        for name in self.unavailable():
            self.router.recheck(self.plugins[name])
        return changed

    def unavailable(self) -> dict[str, str]:
        """The plugins known to lack a working model now, with why: {plugin: problem}."""
        return {name: problem for name in self.plugins
                for problem in [self.health.problem(plugin_source(name))] if problem is not None}

    def warm_up(self, plugins: list[Plugin] | None = None, *, log_failures: bool = True) -> None:
        """Load every enabled plugin's models now; a plugin whose model is missing or broken is reported to `health`
        and keeps serving help (its answers say what is wrong); the others warm up. One already known to lack its model
        (`check_models`) is not tried again."""
        for plugin in self.plugins.values() if plugins is None else plugins:
            if self.health.problem(plugin_source(plugin.name)) is not None:
                continue
            try:
                plugin.warm_up()
            except Exception as exc:  # noqa: BLE001 - one missing model must not stop the others
                self.health.report(plugin_source(plugin.name), str(exc))
                if log_failures:
                    log.warning("plugin %s is unavailable: %s", plugin.name, exc)

    def warm_up_in_background(self) -> threading.Thread:
        """Warm, in a thread while the adapter connects, the plugins that say their models load quickly
        (`Plugin.warms_in_background`: ONNX Runtime models); an early request waits for its model.

        The others load on first use: importing torch or spaCy in the background takes the 2 CPU cores from
        the first requests for several seconds (measured: a first /sentiment on torch went unanswered for 30 s
        under load while spaCy and MiniLM loaded behind it), where an ONNX model loads in a fraction of a second.
        """
        quick = [plugin for plugin in self.plugins.values() if plugin.warms_in_background]
        thread = threading.Thread(target=self.warm_up, args=(quick,), name="warm-up", daemon=True)
        thread.start()
        return thread
