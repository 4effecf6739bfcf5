"""An uploaded file as bytes and as text, with one clear refusal for a file that is empty,
binary, or not UTF-8 text. See docs/design.md#import-formats."""

from __future__ import annotations

from pathlib import Path

from core.import_errors import UnreadableFile
from core.imports.limits import import_limits

PARQUET_MAGIC = b"PAR1"
_ZIP_MAGIC = b"PK\x03\x04"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_SAVE_AS_UTF8 = 'save it as "CSV UTF-8 (comma delimited)" and import that file'


def read_bytes(source: bytes | Path, file_name: str) -> bytes:
    """The file's content, from an upload (bytes) or a path; a file bigger than the import
    limit is refused before it is read."""
    limits = import_limits()
    if isinstance(source, Path):
        try:
            limits.check_bytes(source.stat().st_size, file_name)
            with source.open("rb") as file:  # the size again: a file may grow meanwhile
                data = file.read(limits.max_bytes + 1)
        except OSError as error:
            raise UnreadableFile(file_name, f"cannot be read: {error.strerror}") from None
    else:
        data = bytes(source)
    limits.check_bytes(len(data), file_name)
    return data


def is_parquet(data: bytes, file_name: str) -> bool:
    return data[:4] == PARQUET_MAGIC or file_name.lower().endswith(".parquet")


def _looks_like_utf16(data: bytes) -> bool:
    """Mostly ASCII text written as UTF-16 without a byte-order mark has a NUL every 2 bytes."""
    head = data[:2000]
    if len(head) < 4:
        return False
    even_nuls = head[0::2].count(0)
    odd_nuls = head[1::2].count(0)
    half = len(head) // 2
    return max(even_nuls, odd_nuls) > half * 0.6 and min(even_nuls, odd_nuls) < half * 0.1


def decode_text(data: bytes, file_name: str) -> str:
    """The file as text without its byte-order mark; ``UnreadableFile`` if it is not UTF-8
    text or holds nothing but blanks."""
    if not data:
        raise UnreadableFile(file_name, "the file is empty")
    if data.startswith(_UTF16_BOMS) or _looks_like_utf16(data):
        raise UnreadableFile(
            file_name, f"is UTF-16 text, but GridBoard reads UTF-8 text: {_SAVE_AS_UTF8}"
        )
    if data.startswith(_ZIP_MAGIC):
        raise UnreadableFile(
            file_name,
            f"is an Excel workbook (or another zip archive), not CSV text: {_SAVE_AS_UTF8}",
        )
    if data.startswith(PARQUET_MAGIC):
        raise UnreadableFile(file_name, "is a Parquet file, but a CSV file is expected here")
    if b"\x00" in data:
        raise UnreadableFile(file_name, "is a binary file, not CSV text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise UnreadableFile(
            file_name,
            f"is not UTF-8 text (line {line} holds the byte 0x{data[error.start]:02X}, "
            f"perhaps from a Windows or Latin-1 export): {_SAVE_AS_UTF8}",
        ) from None
    text = text.removeprefix("\ufeff")
    if not text or text.isspace():
        raise UnreadableFile(file_name, "the file is empty")
    return text
