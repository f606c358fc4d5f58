"""A structural check of MATLAB v5 ``.mat`` files, run before ``scipy.io.loadmat`` reads them.

scipy's compiled reader indexes a table with the data-type code of every numeric element without
checking it (``VarReader5.read_numeric``, scipy 1.17), so a damaged file (one flipped byte in a
type code) crashes the whole process with a segmentation fault instead of raising. This walk over
the element tags (compressed elements decompressed) finds such damage first and reports it as an
ordinary error. It checks the container, not the content: type codes, sizes, nesting.
"""

from __future__ import annotations

import struct
import zlib

#: MAT-file v5 data types (miINT8 ... miUTF32); 8, 10, 11 are reserved
VALID_TYPES = frozenset({1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 14, 15, 16, 17, 18})
MI_INT8, MI_INT32, MI_UINT32, MI_MATRIX, MI_COMPRESSED, MI_UTF8 = 1, 5, 6, 14, 15, 16
DATA_TYPES = VALID_TYPES - {MI_MATRIX, MI_COMPRESSED}
#: mxArray classes: cell, struct, object, char, sparse, numeric (double ... uint64), function, opaque
CELL, STRUCT, OBJECT, CHAR, SPARSE, FUNCTION, OPAQUE = 1, 2, 3, 4, 5, 16, 17
NUMERIC = frozenset(range(6, 16))
_MAX_DEPTH = 64


class MatFileDamaged(ValueError):
    """The file's element structure is inconsistent (truncated, unknown type code, size past the end)."""


def check_mat_v5(data: bytes) -> None:
    """Raise :class:`MatFileDamaged` when a v5 MAT-file's elements do not fit together; other
    versions (v4, v7.3/HDF5) are left to their readers."""
    if len(data) < 128 or data[124:126] not in (b"\x00\x01", b"\x01\x00") or data[126:128] not in (b"IM", b"MI"):
        return  # not a v5 file (scipy decides what it is)
    order = "<" if data[126:128] == b"IM" else ">"
    walker = _Walker(order)
    for mdtype, start, stop in walker.parts(data, 128, len(data), top=True):
        if mdtype == MI_COMPRESSED:
            try:
                inner = zlib.decompressobj().decompress(data[start:stop])
            except zlib.error as e:
                raise MatFileDamaged(f"the compressed variable at byte {start - 8} cannot be decompressed ({e})") \
                    from None
            parts = walker.parts(inner, 0, len(inner))
            if len(parts) != 1 or parts[0][0] != MI_MATRIX:
                raise MatFileDamaged(f"the compressed variable at byte {start - 8} does not hold one array")
            walker.matrix(inner, parts[0][1], parts[0][2], 0)
        elif mdtype == MI_MATRIX:
            walker.matrix(data, start, stop, 0)


class _Walker:
    def __init__(self, order: str):
        self.tag = struct.Struct(order + "II").unpack_from
        self.u32 = struct.Struct(order + "I").unpack_from
        self.i32 = struct.Struct(order + "i").unpack_from
        self.order = order

    def parts(self, buf, pos: int, end: int, top: bool = False) -> list[tuple[int, int, int]]:
        """(type, data start, data stop) of the elements in ``buf[pos:end]``."""
        out = []
        tag = self.tag
        while pos < end:
            if pos + 8 > end:
                if top:
                    break  # a few bytes after the last variable: scipy ignores them
                raise MatFileDamaged(f"an element tag at byte {pos} is cut off")
            first, nbytes = tag(buf, pos)
            if first >> 16:  # small data element: type and size packed in the first 4 bytes
                mdtype = first & 0xFFFF
                if mdtype not in DATA_TYPES or first >> 16 > 4:
                    raise MatFileDamaged(f"a small data element at byte {pos} has type {mdtype}")
                out.append((mdtype, pos + 4, pos + 4 + (first >> 16)))
                pos += 8
                continue
            stop = pos + 8 + nbytes
            if stop > end:
                raise MatFileDamaged(f"an element at byte {pos} declares {nbytes} bytes, more than there are")
            if first not in VALID_TYPES:
                raise MatFileDamaged(f"an element at byte {pos} has the unknown type code {first}")
            out.append((first, pos + 8, stop))
            pos = stop if (top and first == MI_COMPRESSED) else stop + (-nbytes % 8)
        return out

    def matrix(self, buf, start: int, stop: int, depth: int) -> None:
        """One miMATRIX: flags, dimensions, name, then the parts its class needs, each of the right kind."""
        if start == stop:
            return  # an empty matrix
        if depth > _MAX_DEPTH:
            raise MatFileDamaged("arrays nested too deeply")
        parts = self.parts(buf, start, stop)
        if len(parts) < 2 or parts[0][0] != MI_UINT32 or parts[0][2] - parts[0][1] != 8:
            raise MatFileDamaged(f"the array at byte {start - 8} has no valid array flags")
        flags = self.u32(buf, parts[0][1])[0]
        mclass, complex_ = flags & 0xFF, flags >> 11 & 1
        if mclass in (OPAQUE, FUNCTION):
            for m, a, b in parts[1:]:
                if m == MI_MATRIX:
                    self.matrix(buf, a, b, depth + 1)
            return
        dims, name = (parts[1], parts[2]) if len(parts) > 2 else (None, None)
        if dims is None or dims[0] not in (MI_INT32, MI_UINT32) or (dims[2] - dims[1]) % 4 \
                or name[0] not in (MI_INT8, MI_UTF8):
            raise MatFileDamaged(f"the array at byte {start - 8} has no valid dimensions or name")
        if mclass in NUMERIC or mclass == CHAR or mclass == SPARSE:  # the common leaf: no need for the dims
            want = (3 if mclass == SPARSE else 1) + complex_
            if len(parts) != 3 + want:
                raise MatFileDamaged(f"the array at byte {start - 8} (class {mclass}) does not have {want} data parts")
            for p in parts[3:]:
                if p[0] not in DATA_TYPES:
                    raise MatFileDamaged(f"the array at byte {start - 8} has a data part of type {p[0]}")
            return
        n = 1
        for d in struct.unpack_from(f"{self.order}{(dims[2] - dims[1]) // 4}i", buf, dims[1]):
            if d < 0:
                raise MatFileDamaged(f"the array at byte {start - 8} has a negative dimension")
            n *= d
        rest = 3
        if mclass in (STRUCT, OBJECT):
            where = f"the array at byte {start - 8}"
            if mclass == OBJECT:
                if len(parts) < 4 or parts[3][0] not in (MI_INT8, MI_UTF8):
                    raise MatFileDamaged(f"{where} (an object) has no class name")
                rest = 4
            if len(parts) < rest + 2 or parts[rest][0] != MI_INT32 or parts[rest][2] - parts[rest][1] != 4 \
                    or parts[rest + 1][0] != MI_INT8:
                raise MatFileDamaged(f"{where} (a struct) has no valid field names")
            width = self.i32(buf, parts[rest][1])[0]
            names = parts[rest + 1][2] - parts[rest + 1][1]
            if (width <= 0 and names) or (width > 0 and names % width):
                raise MatFileDamaged(f"{where} (a struct) has field names that do not fit their length")
            n *= names // width if width > 0 else 0
            rest += 2
        elif mclass != CELL:
            raise MatFileDamaged(f"the array at byte {start - 8} has the unknown class {mclass}")
        if len(parts) - rest != n:
            raise MatFileDamaged(f"the array at byte {start - 8} should hold {n} arrays but holds "
                                 f"{len(parts) - rest} elements")
        matrix = self.matrix
        for m, a, b in parts[rest:]:
            if m != MI_MATRIX:
                raise MatFileDamaged(f"the array at byte {start - 8} holds a data element where an array should be")
            matrix(buf, a, b, depth + 1)
