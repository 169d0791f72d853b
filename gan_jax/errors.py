"""Errors a user can cause; the entry points print them without a traceback and exit 2."""


class UserError(RuntimeError):
    """Base class: the message names the setting at fault and how to fix it."""


class ConfigError(UserError):
    """An invalid configuration value or combination."""


class DataError(UserError):
    """Missing or corrupt data files."""


class DivergenceError(UserError):
    """Training produced NaN or inf; the last good checkpoint is kept."""


class CheckpointError(UserError):
    """A checkpoint whose files are damaged (truncated, missing): the message names the file."""


class PeerLostError(UserError):
    """A process of a multi-process run (`trainer.distributed=true`) stopped; the message names it."""
