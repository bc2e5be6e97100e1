"""Measures over records: inter-annotator agreement (span F1, Krippendorff's alpha, Cohen's kappa)
and near-duplicate detection (MinHash leakage check). Pure functions and accumulators; merging
computes each document's agreement, so this layer sits below ``core``.

May import: the root modules and ``contracts``.
"""
