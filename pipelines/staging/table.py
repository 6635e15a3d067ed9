"""Moved to :mod:`contracts.table` (the pure table contracts); kept so old imports work."""

from contracts.table import *  # noqa: F401,F403
