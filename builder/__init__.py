"""claimwire: build, validate and verify an annotated news-article dataset.

Public API: :func:`build`, :func:`verify`, :func:`read_articles`, :func:`read_export`, the record
types and the error hierarchy. The command line is ``claimwire`` (:mod:`builder.cli`).
"""

DATASET_VERSION = "0.1.1"

from .build import build  # noqa: E402
from .errors import ClaimwireError, InvalidDataError, Problem, UsageError  # noqa: E402
from .articles import read_articles  # noqa: E402
from .labelstudio import read_export  # noqa: E402
from .records import AnnotationInfo, Article, ArticleMeta, Claim, Document, Entity  # noqa: E402
from .release import verify  # noqa: E402

__all__ = [
    "DATASET_VERSION",
    "AnnotationInfo",
    "Article",
    "ArticleMeta",
    "Claim",
    "ClaimwireError",
    "Document",
    "Entity",
    "InvalidDataError",
    "Problem",
    "UsageError",
    "build",
    "read_articles",
    "read_export",
    "verify",
]
