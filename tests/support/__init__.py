"""Helpers shared by the tests: workspaces, synthetic corpora, fault injection, figures."""
