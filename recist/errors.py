"""Exceptions raised by the rules layer."""


class RecistError(Exception):
    """Base class of every error raised by :mod:`recist`."""


class InvalidRecordError(RecistError, ValueError):
    """A domain record was built with a value that is not allowed; the message names the field."""
