"""Evidence files (佐证材料): copied into the evidence folder under their SHA-256."""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from io import BytesIO
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


def staged(sources: Sequence[Path], root: Path) -> AbstractContextManager[list[EvidenceFile]]:
    """Store the files for a filing; if the filing is refused, remove the copies it created."""
    return _staging(store(src, root) for src in sources)


@contextmanager
def _staging(stores: Iterable[tuple[EvidenceFile, bool]]) -> Iterator[list[EvidenceFile]]:
    """Run the stores (lazily, inside the guard); on any error remove the files they created."""
    created: list[Path] = []
    stored = []
    try:
        for f, new in stores:
            stored.append(f)
            if new:
                created.append(Path(f.stored_path))
        yield stored
    except BaseException:
        _remove(created)
        raise


def _remove(created: Sequence[Path]) -> None:
    for path in created:
        path.unlink(missing_ok=True)
        if not any(path.parent.iterdir()):
            path.parent.rmdir()


#: Evidence types accepted from uploads, recognised by their first bytes, not by their names.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", ".png"),
    (b"\xff\xd8\xff", ".jpg"),
    (b"GIF87a", ".gif"),
    (b"GIF89a", ".gif"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".doc"),  # OLE compound file: .doc / .xls of old Office
)
OFFICE_ZIP = {"word/": ".docx", "xl/": ".xlsx", "ppt/": ".pptx"}
ALLOWED_TEXT = (".txt", ".csv")
ALLOWED_NAMES = "PDF、图片（PNG/JPG/GIF）、Word、Excel、PowerPoint、文本"
UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


def sniff(data: bytes, name: str) -> str | None:
    """The file's real type as an extension (``.pdf``, ``.docx`` …), or ``None`` when not allowed."""
    for magic, ext in MAGIC:
        if data.startswith(magic):
            return ext
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for prefix, ext in OFFICE_ZIP.items():
                if any(n.startswith(prefix) for n in names):
                    return ext
        return None
    if Path(name).suffix.lower() in ALLOWED_TEXT and b"\x00" not in data:
        try:
            data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return None
        return Path(name).suffix.lower()
    return None


def clean_name(name: str, ext: str) -> str:
    """A display name safe in a header and on any file system: no path, no control characters."""
    base = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    base = UNSAFE_NAME.sub("_", base).strip(" .") or "附件"
    stem = Path(base).stem[:100] or "附件"
    return f"{stem}{ext}"


def store_upload(data: bytes, name: str, root: Path, *, limit: int) -> tuple[EvidenceFile, bool]:
    """Store an uploaded evidence file under its SHA-256, after checking its size and content.

    Returns:
        The stored file (its name cleaned, its extension the real type's), and whether this call created it.

    Raises:
        InvalidInput: empty, larger than ``limit`` bytes, or not an allowed type.
    """
    if not data:
        raise InvalidInput("佐证材料", name, "文件为空")
    if len(data) > limit:
        raise InvalidInput("佐证材料", name, f"超过大小上限 {limit // (1024 * 1024)} MB")
    ext = sniff(data, name)
    if ext is None:
        raise InvalidInput("佐证材料", name, f"文件类型不允许（内容不符），可上传：{ALLOWED_NAMES}")
    sha = hashlib.sha256(data).hexdigest()
    dest = (root / sha[:2] / f"{sha}{ext}").resolve()
    created = not dest.exists()
    if created:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(dest.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(dest)
    return EvidenceFile(file_name=clean_name(name, ext), size=len(data), sha256=sha, stored_path=str(dest)), created


def staged_uploads(uploads: Sequence[tuple[str, bytes]], root: Path, *,
                   limit: int) -> AbstractContextManager[list[EvidenceFile]]:  # fmt: skip
    """Store uploaded files for a filing; if anything is refused, remove the copies this call created."""
    return _staging(store_upload(data, name, root, limit=limit) for name, data in uploads)


#: Notice texts (通报文本) the importer reads, besides lists (.xlsx, .csv).
TEXT_SUFFIXES = (".txt", ".md")


def read_text(file: Path) -> str:
    """A text file in UTF-8 (with or without BOM) or GB18030, as offices save them.

    Raises:
        InvalidInput: neither encoding fits.
    """
    data = file.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("文件", str(file), "无法识别文本编码（应为 UTF-8 或 GB18030）")
