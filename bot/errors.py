"""Errors whose message is meant for the person who caused them, and the exit code each one means."""

# The exit codes of DESIGN.md; `bot.cli.main` is the one place that maps an error to them.
EXIT_OK = 0
EXIT_SOME_INPUTS_FAILED = 1  # the other inputs were done
EXIT_USAGE = 2
EXIT_RUNTIME = 3


class NlpbotError(Exception):
    """Base class: the message is safe to show a user (no secrets, no stack trace). A runtime error unless a
    subclass says otherwise: the command was right, the world was not (config, model, service, state)."""

    exit_code = EXIT_RUNTIME


class UsageError(NlpbotError):
    """The command was asked wrongly (unknown plugin, missing argument, unreadable input file)."""

    exit_code = EXIT_USAGE


class ConfigError(NlpbotError):
    """The configuration file is wrong; start-up stops with this message."""


class ModelUnavailable(NlpbotError):
    """A model cannot be found or loaded; the message says which and how to provide it."""


class UserInputError(UsageError):
    """The request itself is wrong (empty, too long, bad arguments)."""


class NotSupportedHere(UsageError):
    """The request needs something this adapter cannot give (e.g. channel history in the console)."""


class Forbidden(NlpbotError):
    """The user may not run this command."""
