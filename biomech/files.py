"""Writing output files: one atomic write for every file biomech produces."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, data: bytes | Callable[[Path], None]) -> Path:
    """Write ``path`` so that it is either the previous file or the complete new one.

    ``data`` is the bytes to write, or a function that writes the file at the temporary path it
    is given (e.g. a figure's ``savefig``). The temporary file lies in the same directory, is
    hidden (a leading dot) and keeps the file's suffix (writers that infer the format from the
    name see the right one); it is renamed into place (`os.replace`); on any failure it is
    removed and the error re-raised.
    The file gets the ordinary permissions (0666 less the umask), not mkstemp's 0600.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    try:
        if callable(data):
            os.close(fd)
            data(Path(tmp))
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
