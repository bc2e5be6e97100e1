"""The ``claimwire`` command: the argument parser and one module of handlers per command group.
The only layer that parses arguments or draws progress bars; handlers import their domain modules
when they run, so ``claimwire --help`` loads none of pyarrow, pandas or ``datasets``.

May import: every layer.
"""

from .main import main

__all__ = ["main"]
