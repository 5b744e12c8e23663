"""Python values to and from struct folio_value.

Python to folio: None is NULL; int (and bool) is INTEGER (it must fit in 64
bits, else OverflowError); float is REAL; str is TEXT, encoded as UTF-8;
bytes, bytearray and memoryview are BLOB. Anything else is a TypeError.

folio to Python: TEXT comes back as str, decoded from UTF-8 with the
'surrogateescape' error handler: bytes that are not valid UTF-8 (which SQLite
allows in TEXT) become lone surrogates U+DC80..U+DCFF instead of failing, and
writing that str back stores the very same bytes. BLOB comes back as bytes.

TEXT and BLOB bytes that libfolio returns are borrowed (valid until the
cursor moves): they are copied into the new str or bytes at once.
"""

import ctypes

from . import _native as n

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

TEXT_ERRORS = "surrogateescape"


def _address(data):
    """Address of a bytes object's buffer (the object must be kept alive)."""
    return ctypes.cast(ctypes.c_char_p(data), ctypes.c_void_p).value


def set_value(slot, value, keep):
    """Fill the folio_value `slot` from `value`; bytes it points to go in `keep`."""
    if value is None:
        slot.type = n.T_NULL
    elif isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise OverflowError("folio: integer %d does not fit in 64 bits" % value)
        slot.type = n.T_INTEGER
        slot.u.i = value
    elif isinstance(value, float):
        slot.type = n.T_REAL
        slot.u.r = value
    elif isinstance(value, str):
        data = value.encode("utf-8", TEXT_ERRORS)
        keep.append(data)
        slot.type = n.T_TEXT
        slot.u.s.p = _address(data)
        slot.u.s.n = len(data)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        keep.append(data)
        slot.type = n.T_BLOB
        slot.u.s.p = _address(data)
        slot.u.s.n = len(data)
    else:
        raise TypeError("folio: cannot store a value of type %s (None, int, float, str or "
                        "bytes)" % type(value).__name__)


def to_array(values, keep):
    """A (folio_value array, count) pair for a sequence of Python values."""
    count = len(values)
    array = (n.Value * max(count, 1))()
    for i, value in enumerate(values):
        set_value(array[i], value, keep)
    return array, count


def as_sequence(values, what):
    """`values` as a list, refusing a str, bytes or mapping (a common slip)."""
    if isinstance(values, (str, bytes, bytearray, memoryview, dict)) or not hasattr(
            values, "__iter__"):
        raise TypeError("folio: %s must be a sequence of values, not %s" %
                        (what, type(values).__name__))
    return list(values)


def key_values(key):
    """A key given as one value or as a tuple or list of values, as a list."""
    if isinstance(key, (tuple, list)):
        return list(key)
    return [key]


def get_value(v):
    """The Python value of a folio_value, copying any bytes it points to."""
    t = v.type
    if t == n.T_INTEGER:
        return v.u.i
    if t == n.T_REAL:
        return v.u.r
    if t == n.T_TEXT or t == n.T_BLOB:
        size = v.u.s.n
        data = ctypes.string_at(v.u.s.p, size) if size else b""
        return data.decode("utf-8", TEXT_ERRORS) if t == n.T_TEXT else data
    return None
