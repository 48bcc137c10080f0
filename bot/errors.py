"""Errors whose message is meant for the person who caused them."""


class NlpbotError(Exception):
    """Base class: the message is safe to show a user (no secrets, no stack trace)."""


class ConfigError(NlpbotError):
    """The configuration file is wrong; start-up stops with this message."""


class ModelUnavailable(NlpbotError):
    """A model cannot be found or loaded; the message says which and how to provide it."""


class UserInputError(NlpbotError):
    """The request itself is wrong (empty, too long, bad arguments)."""


class NotSupportedHere(NlpbotError):
    """The request needs something this adapter cannot give (e.g. channel history in the console)."""


class Forbidden(NlpbotError):
    """The user may not run this command."""
