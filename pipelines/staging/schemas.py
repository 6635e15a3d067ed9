"""Moved to :mod:`contracts.staged` (the pure table contracts); kept so old imports work."""

from contracts.staged import *  # noqa: F401,F403
