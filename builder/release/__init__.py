"""A release folder: writing it atomically (staging folder, lock, checksums), verifying it,
reading it back (one reader for every consumer), comparing two releases, and the HTML QA report.

May import: the root modules, ``contracts``, ``io``, ``quality`` and ``core``.
"""
