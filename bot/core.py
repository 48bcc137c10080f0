"""The bot itself: config, model hub, plugins and router, shared by every adapter."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any, Callable

from bot.config import Config
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
        self.hub = ModelHub(config)
        self.services = Services(config=config, hub=self.hub, build_scheduler=self._scheduler,
                                 build_indexes=self._indexes)
        self.plugins = build_plugins(config, self.services, extra=extra_plugins)
        self.services.plugins = self.plugins  # admin and home views list the plugins
        self.router = Router(self.plugins, config)

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

    def warm_up(self, plugins: list[Plugin] | None = None) -> None:
        """Load every enabled plugin's models now; a plugin whose model is missing says so and keeps serving help."""
        for plugin in self.plugins.values() if plugins is None else plugins:
            try:
                plugin.warm_up()
            except Exception as exc:  # noqa: BLE001 - one missing model must not stop the others
                log.warning("plugin %s could not warm up: %s", plugin.name, exc)

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
