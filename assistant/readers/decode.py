"""Bytes to text, refusing what is not text."""

from __future__ import annotations

import codecs


class NotText(ValueError):
    """The bytes are not usable text; the message says why and what to do."""


def decode_text(data: bytes, fallback_encoding: str | None = None) -> tuple[str, str | None]:
    """Decode a file's bytes as UTF-8 (BOM allowed).

    Returns the text and a warning when ``fallback_encoding`` had to be used. Raises NotText for
    empty or binary content, or non-UTF-8 bytes when no fallback is configured.
    """
    if not data.strip():
        raise NotText("empty file")
    if b"\x00" in data[:8192]:
        raise NotText("binary file, not text")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        if fallback_encoding:
            try:
                codecs.lookup(fallback_encoding)
                return data.decode(fallback_encoding), (
                    f"not UTF-8 (byte 0x{bad} at offset {exc.start}); "
                    f"decoded as {fallback_encoding}"
                )
            except (LookupError, UnicodeDecodeError):
                pass
        raise NotText(
            f"not UTF-8 text (byte 0x{bad} at offset {exc.start}); convert it to UTF-8 "
            "or set fallback_encoding (e.g. cp1252)"
        ) from None
