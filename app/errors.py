"""Errors the application layer shows to the reader."""


class CliError(Exception):
    """A problem the user can fix; ``caliper`` prints it without a traceback, exit code 2."""
