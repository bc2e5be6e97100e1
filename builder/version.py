"""The dataset version that ``claimwire build`` writes by default (semver: major = schema or split
change, minor = more data, patch = label fixes)."""

DATASET_VERSION = "1.0.1"
