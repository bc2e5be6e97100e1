"""The official scorer (entities, claims, stance) and the reference baselines, over a release.

May import: every layer up to ``release``.
"""
