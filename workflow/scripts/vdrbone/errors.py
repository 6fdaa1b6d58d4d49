"""Exceptions with messages meant for the person running the workflow."""


class InputError(ValueError):
    """A bad input file, config value or table: the message names the file, line or column."""
