"""The change log: one entry per resource a write changed, appended in that write's transaction
(log.py), read back as each mentor's history and as the feed (feed.py, the blueprint), pruned by
`changes prune` (prune.py, commands.py).

Other wings use `log` (WriteRecord, acting_as, feed, head, history, register_resource),
`prune.keep_entries_for`, `schemas` and `rendering`; this wing imports no other but db and web.
"""
