"""The one error type the CLI turns into a single stderr line and exit code 2."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

EXIT_BAD_INPUT = 2


class ModelsError(Exception):
    """Bad input (file, dataset, model) that the user can fix; the message names the thing and the problem."""


def require_file(path: Path, what: str) -> Path:
    if not path.exists():
        raise ModelsError(f"{what} not found: {path}")
    if not path.is_file():
        raise ModelsError(f"{what} is not a file: {path}")
    return path


def first_line(error: BaseException) -> str:
    """OpenVINO errors are multi-line dumps led by source locations; keep the first line that states a reason."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reasons = [line for line in lines if not line.startswith(("Exception from ", "Check '"))]
    return (reasons or lines or [type(error).__name__])[0]


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """OpenVINO probes every frontend on an unreadable file and the TF one logs parse errors straight to fd 2;
    the user should see our one-line error instead of that noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
