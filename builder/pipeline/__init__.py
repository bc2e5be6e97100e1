"""The whole build (read → merge → validate → split → write, streamed over worker processes), the
whole-corpus aggregates, the dataset card and Croissant metadata, and ``validate`` for CI.

May import: every layer up to ``benchmark``.
"""
