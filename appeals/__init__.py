"""Pure domain code of the appeals engine: models, routing, SLA rules.

Nothing in this package does I/O or imports asyncpg or a Temporal worker, so the
workflow sandbox, the activities and the tools can all share it.
"""
