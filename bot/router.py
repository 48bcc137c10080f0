"""The router: "/summarize ...", a mention's or a DM's "summarize ..." -> Request -> the plugin's command -> Reply."""

from __future__ import annotations

import logging
import time
from typing import Any

from bot import metrics
from bot.config import Config
from bot.declarations import Form, Shortcut, SubcommandSpec, parse_options
from bot.errors import ConfigError, Forbidden, NlpbotError, UserInputError
from bot.format import escape
from bot.logs import REQUEST_ID
from bot.plugin import CommandSpec, Plugin
from bot.plugin_manager import command_table
from bot.reply import Reply
from bot.request import Request
from bot.text import printable

log = logging.getLogger(__name__)

HELP_WORDS = {"help", "?", "commands"}
GENERIC_COMMAND = "nlp"  # `/nlp help`, `/nlp sentiment ...`: every command through one slash command


def _first_word(text: str) -> tuple[str, str]:
    parts = text.strip().split(None, 1)
    return (parts[0].lower() if parts else ""), (parts[1] if len(parts) > 1 else "")


class Router:
    """Turns what a person typed into a Request, runs the matching command, and always returns a Reply."""

    def __init__(self, plugins: dict[str, Plugin], config: Config) -> None:
        self.plugins = plugins
        self.config = config
        self.commands = command_table(plugins)
        self.shortcuts = shortcut_table(plugins, self.commands)

    def form(self, command: str, text: str, *, is_admin: bool) -> Form | None:
        """The form `/COMMAND TEXT` opens where a chat has forms (a bare `/index`), for someone who may run it."""
        if command not in self.commands:
            return None
        plugin, spec = self.commands[command]
        typed = " ".join(text.lower().split())
        if spec.admin_only and not is_admin:
            return None
        return next((form for form in plugin.forms() if form.command == command and form.opens_on == typed
                     and all(field.choices for field in form.inputs if field.kind == "choice")), None)  # a choice to make

    def parse(
        self,
        text: str,
        *,
        source: str,
        user_id: str,
        slash_command: str | None = None,
        channel_id: str | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> Request:
        """A slash command names its command; a mention or DM starts with it ("summarize this ...").

        `text` is plain, as the adapter made it (Slack's markup resolved, the bot's own mention taken out);
        the channels and people it names come in `extra` as `channel_refs` and `user_refs`. Control characters
        are dropped here whatever the adapter did.
        """
        text = printable(text or "").strip()
        if slash_command:
            command = slash_command.lstrip("/").lower()
        else:
            command, text = _first_word(text.lstrip("/"))
        if command == GENERIC_COMMAND:
            command, text = _first_word(text)
            command = command or "help"
        return Request(
            command=command or "help",
            text=text.strip(),
            user_id=user_id,
            source=source,
            channel_id=channel_id,
            thread_ts=thread_ts,
            is_admin=user_id in self.config.bot.admins,
            **extra,
        )

    def handle(self, request: Request) -> Reply:
        """Run the request's command. Never raises: every failure becomes a clear reply, logged with its id."""
        started = time.perf_counter()
        plugin_name = "core"
        token = REQUEST_ID.set(request.request_id)
        try:
            if request.command in HELP_WORDS:
                reply = self.help(request.text.strip() or None)
            elif request.command not in self.commands:
                reply = self.unknown(request.command)
            else:
                plugin, spec = self.commands[request.command]
                plugin_name = plugin.name
                reply = self._run(plugin, spec, request)
            outcome = "error" if reply.is_error else "ok"
        except NlpbotError as exc:
            log.info("request %s (%s) refused: %s", request.request_id, request.command, exc)
            reply, outcome = Reply.error(str(exc), plugin=plugin_name), "refused"
        except Exception:  # noqa: BLE001 - a bug must never reach Slack as a stack trace
            log.exception("request %s (%s by %s) failed", request.request_id, request.command, request.user_id)
            reply = Reply.error(
                f"Sorry, /{request.command} failed on my side. An admin can find the details in the bot's log "
                f"under request id `{request.request_id}`.",
                plugin=plugin_name,
            )
            outcome = "failed"
        reply.plugin = reply.plugin or plugin_name
        elapsed = time.perf_counter() - started
        metrics.child(metrics.REQUESTS, plugin_name, outcome).inc()
        metrics.child(metrics.LATENCY, plugin_name).observe(elapsed)
        if log.isEnabledFor(logging.INFO):  # skips building the arguments when the level is above INFO
            log.info("request %s %s by %s via %s: %s in %.0f ms", request.request_id, request.command,
                     request.user_id, request.source, outcome, 1000 * elapsed)
        REQUEST_ID.reset(token)
        return reply

    def _run(self, plugin: Plugin, spec: CommandSpec, request: Request) -> Reply:
        if spec.admin_only and not request.is_admin:
            raise Forbidden(f"/{spec.name} is for the bot's admins. Ask one of them, or an admin can add your "
                            f"Slack user id ({request.user_id}) to [bot] admins in config.toml.")
        if len(request.text) > plugin.max_text_chars:
            raise UserInputError(
                f"That text is {len(request.text):,} characters; /{spec.name} takes at most "
                f"{plugin.max_text_chars:,}. Send a shorter part, or index long documents with `nlpbot index add`."
            )
        if spec.subcommands:  # the first word picks one; none, or `help`, shows the command's help
            word, rest = _first_word(request.text)
            if not word or word in HELP_WORDS:
                return self.help(f"{spec.name} {rest}")
            sub = spec.subcommand(word)
            if sub is not None:
                args, options = parse_options(rest.split(), sub.options, where=f"/{spec.name} {sub.name}")
                reply = getattr(plugin, sub.method)(request, args, **options)
                reply.plugin = reply.plugin or plugin.name
                return reply
        if not request.text.strip() and not spec.accepts_empty:
            raise UserInputError(f"/{spec.name} needs some text. Usage: `{spec.usage or '/' + spec.name + ' TEXT'}`")
        reply = getattr(plugin, spec.method)(request)
        reply.plugin = reply.plugin or plugin.name
        return reply

    def help(self, topic: str | None = None) -> Reply:
        """Help generated from the plugins: every command, its usage and its docstring; a command's subcommands."""
        words = topic.lstrip("/").split() if topic else []
        if words and words[0].lower() in self.commands:
            spec = self.commands[words[0].lower()][1]
            sub = spec.subcommand(words[1]) if len(words) > 1 else None
            if sub is not None:
                return self._subcommand_help(spec, sub)
            lines = [spec.help, f"Usage: `{spec.usage or '/' + spec.name}`"]
            lines += [f"• `{sub.usage or f'/{spec.name} {sub.name}'}` {sub.help}" for sub in spec.subcommands]
            if spec.subcommands:
                lines.append(f"`/{spec.name} help SUBCOMMAND` shows one.")
            lines += ["_Admins only._"] if spec.admin_only else []
            return Reply(title=f"/{spec.name}", text="\n".join(lines), plugin="core", in_channel=False,
                         data={"commands": [spec.name]})
        lines = []
        for plugin in sorted(self.plugins.values(), key=lambda p: p.name):
            specs = plugin.commands()
            if not specs:
                continue
            lines.append(f"*{plugin.name}* — {plugin.description}")
            for spec in specs:
                lock = " _(admins)_" if spec.admin_only else ""
                lines.append(f"• `{spec.usage or '/' + spec.name}` {spec.help}{lock}")
        lines.append("\nIn a channel, mention me with a command (`@nlpbot summarize`); in a DM, just type it. "
                     "`/nlp help COMMAND` shows one command.")
        return Reply(title=f"{self.config.bot.name} commands", text="\n".join(lines), plugin="core", in_channel=False,
                     data={"commands": sorted(self.commands)})

    @staticmethod
    def _subcommand_help(spec: CommandSpec, sub: SubcommandSpec) -> Reply:
        lines = [sub.help, f"Usage: `{sub.usage or f'/{spec.name} {sub.name}'}`"]
        lines += [f"• `{option.shown}` {option.help}".rstrip() for option in sub.options]
        lines += ["_Admins only._"] if spec.admin_only else []
        return Reply(title=f"/{spec.name} {sub.name}", text="\n".join(lines), plugin="core", in_channel=False,
                     data={"commands": [spec.name], "subcommand": sub.name})

    def unknown(self, command: str) -> Reply:
        reply = self.help()
        shown = escape(command[:40])
        reply.text = f"I don't know the command `{shown}`. Here is what I can do:\n\n" + reply.text
        reply.data["unknown"] = command[:40]
        return reply


def shortcut_table(plugins: dict[str, Plugin],
                   commands: dict[str, tuple[Plugin, CommandSpec]]) -> dict[str, tuple[Plugin, Shortcut]]:
    """callback_id -> (plugin, shortcut); an id claimed twice, or a shortcut to another plugin's command, is refused."""
    table: dict[str, tuple[Plugin, Shortcut]] = {}
    for plugin in plugins.values():
        for shortcut in plugin.shortcuts:
            if shortcut.callback_id in table:
                raise ConfigError(f"the message shortcut {shortcut.callback_id!r} is claimed by both the "
                                  f"{table[shortcut.callback_id][0].name} and {plugin.name} plugins; disable one")
            if commands.get(shortcut.command, (None,))[0] is not plugin:
                raise ConfigError(f"the {plugin.name} plugin's shortcut {shortcut.callback_id!r} runs "
                                  f"/{shortcut.command}, which is not one of its commands")
            table[shortcut.callback_id] = (plugin, shortcut)
    return table
