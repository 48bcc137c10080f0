"""What a plugin declares for the router, the adapters and the CLI: commands, subcommands, options, shortcuts, forms.

The adapters and the CLI name no plugin: they read these (and `Feedback`, bot.feedback) off the enabled plugins;
bot.plugin exports them all. Commands are methods marked `@command` or `@subcommand` (see bot.plugin); the rest,
in a plugin class::

    predict_options = (Option("times", type=int, help="repeat each text this often"),)   # nlpbot predict shout --times 2
    shortcuts = (Shortcut("shout_message", "Shout", command="shout", description="This message, louder"),)

    def forms(self) -> tuple[Form, ...]:   # what a bare `/shout` opens in Slack, where slash commands carry no files
        return (Form("shout", title="Shout files", submit="Shout", runs="{how}",
                     inputs=(Input("how", "How loud", kind="choice", choices=("loud", "louder")),
                             Input("files", "Files", kind="files"))),)
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Literal, Sequence

from bot.errors import UserInputError

DASHES = ("\u2014", "\u2013")  # Slack clients may turn a typed "--" into an em or en dash


@dataclass(frozen=True)
class Option:
    """One option: `nlpbot predict PLUGIN --NAME VALUE` calls `predict(texts, NAME=VALUE)`, and a subcommand's
    `--NAME VALUE` is passed to its method as `NAME=VALUE`.

    `type` turns the typed text into the value (`bool`: a switch, `--force` alone, True when given); with `default`
    None an option not given is not passed, so the plugin's settings decide.
    """

    name: str  # a Python name; the flag is --NAME with "-" for "_"
    type: Callable[[str], Any] = str
    default: Any = None
    help: str = ""
    metavar: str | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def switch(self) -> bool:
        return self.type is bool

    @property
    def shown(self) -> str:
        """As a usage line shows it: `--epochs N`, `--force`."""
        return self.flag if self.switch else f"{self.flag} {self.metavar or self.name.upper()}"


def _wanted(option: Option) -> str:
    return {int: "a whole number", float: "a number"}.get(option.type, f"a {option.metavar or option.name} value")


def parse_options(words: Sequence[str], options: Sequence[Option], *, where: str) -> tuple[list[str], dict[str, Any]]:
    """(the words that are not options, {name: value} of the options given): `--epochs 2`, `--epochs=2`, `--force`.

    A flag that is not declared, a missing value or one of the wrong type is a UserInputError naming what `where`
    (e.g. "/nlp-admin train") takes.
    """
    by_flag = {option.flag: option for option in options}
    takes = ", ".join(option.shown for option in options) or "no options"
    args: list[str] = []
    values: dict[str, Any] = {}
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word.startswith(DASHES) and len(word) > 1 and word[1].isalpha():
            word = "--" + word[1:]
        if not (word.startswith("--") and len(word) > 2):
            args.append(word)
            continue
        flag, has_value, value = word.partition("=")
        option = by_flag.get(flag)
        if option is None:
            raise UserInputError(f"Unknown option {flag!r} for {where}; it takes {takes}.")
        if option.switch:
            if has_value:
                raise UserInputError(f"{flag} takes no value: write `{flag}` alone.")
            values[option.name] = True
            continue
        if not has_value:
            if index >= len(words):
                raise UserInputError(f"{flag} needs {_wanted(option)}: `{option.shown}`.")
            value, index = words[index], index + 1
        try:
            values[option.name] = option.type(value)
        except (TypeError, ValueError):
            raise UserInputError(f"{flag} needs {_wanted(option)}, not {value[:40]!r}.") from None
    return args, values


# -- commands ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubcommandSpec:
    """One subcommand (`/nlp-admin train`) as the router and the help text see it."""

    name: str
    usage: str
    help: str
    method: str
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class CommandSpec:
    """One command as the router and the help text see it."""

    name: str
    usage: str
    help: str
    admin_only: bool
    method: str
    plugin: str = ""
    accepts_empty: bool = False
    subcommands: tuple[SubcommandSpec, ...] = ()

    def subcommand(self, name: str) -> SubcommandSpec | None:
        return next((sub for sub in self.subcommands if sub.name == name.lower()), None)


def _help(method: Callable) -> str:
    return (inspect.getdoc(method) or "").split("\n\n", 1)[0].replace("\n", " ")


def command(
    name: str | None = None, *, usage: str = "", admin_only: bool = False, accepts_empty: bool = False
) -> Callable[[Callable], Callable]:
    """Mark a plugin method as a command. Its docstring's first paragraph becomes the help text.

    `accepts_empty` lets the command run without text (e.g. `/summarize` in a thread); otherwise an empty
    request is answered with the usage line before the plugin runs.
    """

    def mark(method: Callable) -> Callable:
        method.__nlpbot_command__ = {
            "name": name or method.__name__,
            "usage": usage,
            "help": _help(method),
            "admin_only": admin_only,
            "accepts_empty": accepts_empty,
        }
        return method

    return mark


def subcommand(name: str, *, of: str, usage: str = "", options: tuple[Option, ...] = ()) -> Callable[[Callable], Callable]:
    """Mark a plugin method as a subcommand of the plugin's command `of`: `/nlp-admin train ner --epochs 2` calls
    `train(request, ["ner"], epochs=2.0)`. Its docstring's first paragraph is its help (`/nlp-admin help train`,
    `/nlp help nlp-admin train`); its flags are parsed from `options`, and one not declared is refused, naming those
    that are. A first word that names no subcommand goes to the command's own method; none, or `help`, shows help.
    """

    def mark(method: Callable) -> Callable:
        spec = SubcommandSpec(name.lower(), usage, _help(method), method.__name__, tuple(options))
        method.__nlpbot_subcommand__ = {"of": of, "spec": spec}
        return method

    return mark


def declared_commands(cls: type, plugin: str) -> list[CommandSpec]:
    """The commands a plugin class marks, each with its subcommands, by name."""
    specs, subs = [], {}
    for attr, member in inspect.getmembers(cls, callable):
        meta = getattr(member, "__nlpbot_command__", None)
        if meta:
            specs.append(CommandSpec(method=attr, plugin=plugin, **meta))
        sub = getattr(member, "__nlpbot_subcommand__", None)
        if sub:
            subs.setdefault(sub["of"], []).append(replace(sub["spec"], method=attr))
    unknown = sorted(set(subs) - {spec.name for spec in specs})
    if unknown:
        raise TypeError(f"the {plugin} plugin declares subcommands of {unknown[0]!r}, which is not one of its commands")
    return sorted((replace(spec, subcommands=tuple(sorted(subs.get(spec.name, []), key=lambda sub: sub.name)))
                   for spec in specs), key=lambda spec: spec.name)


@dataclass(frozen=True)
class Shortcut:
    """A message shortcut (in Slack, on any message's "More actions" menu) that runs one of the plugin's commands on
    that message, answered privately in its thread.

    `passes`: "message" gives the command the message's text; "nothing" runs it with no text in the message's
    thread (e.g. summarize that thread). Slack shows `name` (at most 24 characters) and `description` (150).
    """

    callback_id: str  # unique across the plugins; letters, digits and _ (Slack's id for it)
    name: str
    command: str
    description: str
    passes: Literal["message", "nothing"] = "message"


@dataclass(frozen=True)
class Input:
    """One input of a Form: a line of text, a choice among `choices`, or files (at most one files input a form)."""

    name: str  # the {name} it fills in the form's `runs`
    label: str
    kind: Literal["text", "choice", "files"] = "text"
    initial: str = ""  # text: the value shown; choice: the one selected first (else the first choice)
    choices: tuple[str, ...] = ()
    optional: bool = False
    hint: str = ""


PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Form:
    """What a command opens in a chat that has forms (Slack's modals) when typed as `/COMMAND OPENS_ON`: Slack sends
    no files with a slash command, so a form with a files input lets a person attach them.

    Its submission runs `/COMMAND RUNS` with `{name}` filled from the inputs (a word whose inputs are all empty is
    left out) and with the files. It opens only for people who may run the command.
    """

    command: str
    title: str  # at most 24 characters (Slack)
    submit: str  # the submit button, at most 24 characters
    inputs: tuple[Input, ...]
    runs: str = ""
    opens_on: str = ""  # "" for the bare command (`/index`), "train" for `/nlp-admin train`

    def text(self, values: dict[str, str]) -> str:
        """The command text a submission stands for; a choice that is not offered is a UserInputError."""
        for field in self.inputs:
            value = values.get(field.name, "")
            if field.kind == "choice" and value and value not in field.choices:
                raise UserInputError(f"{value[:40]!r} is not one of the choices for {field.label}.")
        words = []
        for word in self.runs.split():
            names = PLACEHOLDER.findall(word)
            filled = PLACEHOLDER.sub(lambda match: " ".join(values.get(match.group(1), "").split()), word)
            if not names or any(" ".join(values.get(name, "").split()) for name in names):
                words.append(filled)
        return " ".join([*self.opens_on.split(), *words])
