"""Evidence files (佐证材料): copied into the evidence folder under their SHA-256."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from states.errors import InvalidInput
from states.service import EvidenceFile

CHUNK = 1 << 20


def store(src: Path, root: Path) -> tuple[EvidenceFile, bool]:
    """Copy ``src`` into ``root`` (content-addressed, so a file filed twice is stored once).

    Returns:
        The stored file, and whether this call created it.

    Raises:
        InvalidInput: the file does not exist or is not a regular file.
    """
    if not src.is_file():
        raise InvalidInput("佐证材料", str(src), "文件不存在")
    digest = hashlib.sha256()
    with src.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    sha = digest.hexdigest()
    dest = (root / sha[:2] / f"{sha}{src.suffix.lower()}").resolve()
    created = not dest.exists()
    if created:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
    return EvidenceFile(
        file_name=src.name, size=src.stat().st_size, sha256=sha, stored_path=str(dest)
    ), created


@contextmanager
def staged(sources: Sequence[Path], root: Path) -> Iterator[list[EvidenceFile]]:
    """Store the files for a filing; if the filing is refused, remove the copies it created."""
    created: list[Path] = []
    stored = []
    try:
        for src in sources:
            f, new = store(src, root)
            stored.append(f)
            if new:
                created.append(Path(f.stored_path))
        yield stored
    except BaseException:
        for path in created:
            path.unlink(missing_ok=True)
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
        raise
