"""Coverage-guided fuzzing of the Label Studio export reader with atheris (optional).

The hypothesis tests in tests/test_fuzz_exports.py mutate exports structurally; this target lets
libFuzzer explore the byte level of the reader (JSON decoding, format sniffing, schema checks,
pointer location) for as long as you like. Any exception other than a ClaimwireError is a crash.

    pip install -e ".[fuzz]"    # atheris
    python fuzz/fuzz_export.py -max_total_time=600 fuzz/corpus annotations/exports

Crashing inputs are written as crash-<sha1> in the working folder; replay one with
``python fuzz/fuzz_export.py crash-<sha1>``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["builder"]):
    from builder.errors import ClaimwireError
    from builder.io.exports import read_export

_SCRATCH = Path(tempfile.mkdtemp(prefix="claimwire-fuzz-"))


def test_one_input(data: bytes) -> None:
    path = _SCRATCH / "export.json"
    path.write_bytes(data)
    try:
        for _ in read_export(path):
            pass
    except ClaimwireError as exc:
        for p in exc.problems:  # every problem is located: a file, and a pointer or a line
            assert p.file and (p.pointer is not None or p.line is not None), str(p)


def main() -> None:
    os.makedirs("fuzz/corpus", exist_ok=True)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
