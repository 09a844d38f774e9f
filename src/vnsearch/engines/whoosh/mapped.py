"""Zero-copy reading of Whoosh's compound segment files.

whoosh3 3.54 maps each compound segment file (``.seg``) into memory, then hands every
file inside it (postings, term index, columns, stored fields) to ``BufferFile``, which
wraps the mapped slice in an ``io.BytesIO``: and ``BytesIO`` copies a buffer that is not
a ``bytes`` object. So every process that opened an index held a private copy of all of
it (3 GB for 150,000 articles), and the site made a fresh copy at each commit.

:func:`install` makes Whoosh's compound storage return :class:`MappedBufferFile`
instead: the same ``BufferFile`` API over a :class:`MemoryFile`, whose reads copy only
the bytes asked for. The pages stay the kernel's file cache, shared by every process
reading the index, and are evicted under pressure. This module is the only place that
knows these Whoosh internals; ``tests/test_scale.py`` fails if a segment file is ever
read another way.
"""

from __future__ import annotations

import io

from whoosh.filedb.compound import CompoundStorage, memoryview_
from whoosh.filedb.structfile import BufferFile

_original_open_file = CompoundStorage.open_file
PEEK_BYTES = 512  # a posting block's header is some 40 bytes; longer pickles peek again


class MemoryFile(io.RawIOBase):
    """A read-only, seekable file over a memoryview; ``read(n)`` copies ``n`` bytes, no more."""

    def __init__(self, buf: memoryview):
        super().__init__()
        self._buf = buf
        self._pos = 0
        self._size = len(buf)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = self._size if size is None or size < 0 else min(self._size, start + size)
        self._pos = max(start, end)
        return self._buf[start:end].tobytes()

    def readinto(self, target) -> int:
        n = min(len(target), self._size - self._pos)
        if n <= 0:
            return 0
        memoryview(target).cast("B")[:n] = self._buf[self._pos : self._pos + n]
        self._pos += n
        return n

    def peek(self, size: int = 0) -> bytes:
        """Bytes ahead without moving: at most :data:`PEEK_BYTES`. ``pickle.load`` asks for
        them, so it unpickles a posting block's header from one copy and one ``read``,
        instead of calling ``read`` once per opcode (20 calls a block, most of the time a
        phrase check spent reading positions)."""
        return self._buf[self._pos : min(self._size, self._pos + PEEK_BYTES)].tobytes()

    def readline(self, size: int | None = -1) -> bytes:
        limit = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        end = self._pos
        while end < limit:  # pickle asks for lines only in old protocols: rare and short
            chunk = self._buf[end : min(limit, end + 256)].tobytes()
            newline = chunk.find(b"\n")
            if newline >= 0:
                end += newline + 1
                break
            end += len(chunk)
        line = self._buf[self._pos : end].tobytes()
        self._pos = end
        return line

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._buf = memoryview(b"")  # drop the slice so the map can close
        super().close()


class MappedBufferFile(BufferFile):
    """Whoosh's ``BufferFile`` without the copy: its file reads straight from the map."""

    def __init__(self, buf: memoryview, name: str | None = None):
        # BufferFile.__init__ would make BytesIO(buf), the copy this class exists to avoid.
        self._buf = buf
        self._name = name
        self.file = MemoryFile(buf)
        self.onclose = None
        self.is_real = False
        self.is_closed = False


def _open_file_mapped(self: CompoundStorage, name: str, *args, **kwargs):
    """CompoundStorage.open_file, returning a view of the map rather than a copy of it."""
    if self._source is None or self.is_closed:
        return _original_open_file(self, name, *args, **kwargs)
    offset, length = self.range(name)
    return MappedBufferFile(memoryview_(self._source, offset, length), name=name)


def install() -> None:
    """Make every compound segment this process opens read through the map (idempotent)."""
    CompoundStorage.open_file = _open_file_mapped


def is_installed() -> bool:
    return CompoundStorage.open_file is _open_file_mapped


def buffer_of(dbfile) -> memoryview | None:
    """The mapped bytes behind a file Whoosh opened, or None when it is not a view of a map."""
    if isinstance(dbfile, MappedBufferFile) and dbfile._buf is not None:
        return dbfile._buf
    return None


def copied_files(reader) -> list[str]:
    """Files of a Whoosh reader's segments held as private copies, not views of a map.

    Empty when zero-copy reading works; a test asserts so, so that a Whoosh upgrade that
    changes these internals fails loudly instead of quietly costing gigabytes.
    """
    leaves = reader.leaf_readers() if reader.doc_count_all() else []
    copied = []
    for segreader, _offset in leaves:
        files = [segreader._terms._dbfile, segreader._terms._postfile]
        files += [colfile for colfile, _, _ in segreader._perdoc._colfiles.values()]
        for f in files:
            if f is not None and not isinstance(f, MappedBufferFile):
                copied.append(getattr(f, "_name", repr(f)))
    return copied
