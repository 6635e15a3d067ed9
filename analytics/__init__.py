"""Chat analytics: pure functions over polars frames (no I/O, no Prefect, no database).

Start at :func:`analytics.marts.build_chat_marts`; definitions are in docs/analytics.md.
"""
