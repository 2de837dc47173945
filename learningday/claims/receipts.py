"""Receipts: PDF, PNG or JPEG up to 10 MB, recognised by their first bytes, never by the filename
(a renamed executable is not a PDF), stored under `<data dir>/receipts/` with a random name."""

from __future__ import annotations

import uuid
from pathlib import Path

MAX_RECEIPT_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


def receipt_type(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a receipt, from its magic bytes; None if not one we take."""
    for magic, content_type, extension in _SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def receipt_problem(data: bytes) -> str | None:
    if not data:
        return "The receipt file is empty: attach the PDF, PNG or JPEG again."
    if len(data) > MAX_RECEIPT_BYTES:
        return f"The receipt is {len(data) / 1024 / 1024:.1f} MB; the limit is 10 MB. Attach a smaller scan."
    if receipt_type(data) is None:
        return "The receipt must be a PDF, PNG or JPEG file (whatever its name says)."
    return None


def store_receipt(data_dir: Path, data: bytes) -> Path:
    kind = receipt_type(data)
    assert kind is not None, "check receipt_problem first"
    folder = data_dir / "receipts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.{kind[1]}"
    path.write_bytes(data)
    return path
