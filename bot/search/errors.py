"""What can go wrong with a document index, in words a user can act on."""

from bot.errors import NlpbotError, UserInputError


class SearchIndexError(NlpbotError):
    """An index cannot be used as it is (wrong model, missing, locked)."""


class IndexCorrupted(SearchIndexError):
    """The files of an index do not match each other or their checksums."""


class IndexBusy(SearchIndexError):
    """A write holds the index's lock, so it cannot be dropped now."""


class NoSuchIndex(UserInputError):
    """A search names an index that was never built."""
