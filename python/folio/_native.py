"""The door to libfolio: finding the shared library and declaring, with ctypes,
the C structs and functions of include/folio.h that the binding calls.

Nothing else in the package touches ctypes' view of the library; the other
modules call the functions bound here through `lib`.
"""

import ctypes
import ctypes.util
import os

# Status and error codes (folio.h).
OK = 0
ROW = 100
DONE = 101
NOTFOUND = 102

ERROR = -1
MISUSE = -2
NOMEM = -3
IOERR = -4
CORRUPT = -5
NOTADB = -6
UNSUPPORTED = -7
BUSY = -8
READONLY = -9
CONSTRAINT = -10
FULL = -11
NOTFOUND_ERR = -12
CANTOPEN = -13
TOOBIG = -14
MISMATCH = -15
TIMEOUT = -16
CONFLICT = -17

OPEN_READONLY = 0x1
OPEN_CREATE = 0x2
OPEN_INLINE_CHECKPOINT = 0x4

SYNC_OFF = 0
SYNC_NORMAL = 1
SYNC_FULL = 2

# The layout of folio_options below is version 7 (it ends with log_compression).
# FOLIO_MMAP_DEFAULT: 16 GiB (0 where size_t has 32 bits).
MMAP_DEFAULT = (16 << 30) if ctypes.sizeof(ctypes.c_size_t) >= 8 else 0
OPTIONS_VERSION = 7
LOG_ZSTD = 0
LOG_LZ4 = 1
LOG_AS_ENABLED = -1

TXN_READ = 0x1
TXN_WRITE = 0x2
TXN_CONCURRENT = 0x4
TXN_SERIALIZABLE = 0x8
TXN_READ_COMMITTED = 0x10

SEEK_EQ = 0
SEEK_GE = 1
SEEK_GT = 2
SEEK_LE = 3
SEEK_LT = 4

CHECKPOINT_PASSIVE = 0
CHECKPOINT_FULL = 1
CHECKPOINT_RESTART = 2
CHECKPOINT_TRUNCATE = 3

# folio_type
T_NULL = 0
T_INTEGER = 1
T_REAL = 2
T_TEXT = 3
T_BLOB = 4


class Options(ctypes.Structure):
    """struct folio_options, version 7."""

    _fields_ = [
        ("version", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("sync", ctypes.c_int),
        ("cache_bytes", ctypes.c_size_t),
        ("page_size", ctypes.c_uint),
        ("wal_autocheckpoint", ctypes.c_uint),
        ("busy_timeout_ms", ctypes.c_uint),
        ("mmap_bytes", ctypes.c_size_t),
        ("txn_timeout_ms", ctypes.c_uint),
        ("foreign_keys", ctypes.c_int),
        ("recursive_triggers", ctypes.c_int),
        ("max_write_txns", ctypes.c_uint),
        ("log_compression", ctypes.c_int),
    ]


class _Bytes(ctypes.Structure):
    _fields_ = [("p", ctypes.c_void_p), ("n", ctypes.c_size_t)]


class _ValueUnion(ctypes.Union):
    _fields_ = [("i", ctypes.c_int64), ("r", ctypes.c_double), ("s", _Bytes)]


class Value(ctypes.Structure):
    """struct folio_value."""

    _fields_ = [("type", ctypes.c_int), ("u", _ValueUnion)]


class SchemaEntry(ctypes.Structure):
    """struct folio_schema_entry (strings live until the transaction ends)."""

    _fields_ = [
        ("type", ctypes.c_char_p),
        ("name", ctypes.c_char_p),
        ("tbl_name", ctypes.c_char_p),
        ("rootpage", ctypes.c_uint32),
        ("sql", ctypes.c_char_p),
    ]


INFO_FIELDS = (
    "page_size", "page_count", "freelist_pages", "freelist_trunk", "change_counter",
    "schema_cookie", "schema_format", "text_encoding", "user_version", "application_id",
    "reserved_bytes", "autovacuum", "incremental_vacuum", "write_version", "read_version",
    "sqlite_version",
)


class Info(ctypes.Structure):
    """struct folio_info."""

    _fields_ = [(name, ctypes.c_uint32) for name in INFO_FIELDS] + [
        ("file_bytes", ctypes.c_uint64),
        ("wal_bytes", ctypes.c_uint64),
        ("wal_frames", ctypes.c_uint32),
        ("wal_checkpoint_seq", ctypes.c_uint32),
        ("wal_backfilled", ctypes.c_uint32),
        ("checkpoint_note", ctypes.c_char_p),
        ("read_marks", ctypes.c_uint32 * 5),
        ("read_locks", ctypes.c_uint32),
        ("write_holder", ctypes.c_char_p),
        ("ckpt_holder", ctypes.c_char_p),
    ]


class BtreeStats(ctypes.Structure):
    """struct folio_btree_stats."""

    _fields_ = [
        ("name", ctypes.c_char_p),
        ("tbl_name", ctypes.c_char_p),
        ("is_index", ctypes.c_int),
        ("rootpage", ctypes.c_uint32),
        ("depth", ctypes.c_uint32),
        ("interior_pages", ctypes.c_uint64),
        ("leaf_pages", ctypes.c_uint64),
        ("overflow_pages", ctypes.c_uint64),
        ("entries", ctypes.c_uint64),
        ("payload_bytes", ctypes.c_uint64),
        ("unused_bytes", ctypes.c_uint64),
        ("fragmented_bytes", ctypes.c_uint64),
    ]


EDGES_OUT = 1
EDGES_IN = 2


class Edge(ctypes.Structure):
    """struct folio_edge (its pointers live until the walker moves)."""

    _fields_ = [
        ("source_key", ctypes.c_char_p),
        ("target_key", ctypes.c_char_p),
        ("kind", ctypes.c_char_p),
        ("weight", ctypes.c_double),
        ("data", Value),
        ("dir", ctypes.c_int),
    ]


CHECK_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p)


class FkViolation(ctypes.Structure):
    """struct folio_fk_violation."""

    _fields_ = [
        ("table", ctypes.c_char_p),
        ("rowid", ctypes.c_int64),
        ("has_rowid", ctypes.c_int),
        ("parent", ctypes.c_char_p),
        ("fkid", ctypes.c_int),
    ]


FK_CHECK_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(FkViolation))
STATS_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(BtreeStats))

_p = ctypes.c_void_p
_pp = ctypes.POINTER(ctypes.c_void_p)
_int = ctypes.c_int
_i64 = ctypes.c_int64
_vals = ctypes.POINTER(Value)

# name: (restype, argtypes)
_PROTOTYPES = {
    "folio_open": (_int, [_pp, ctypes.c_char_p, ctypes.POINTER(Options)]),
    "folio_close": (_int, [_p]),
    "folio_errmsg": (ctypes.c_char_p, [_p]),
    "folio_open_errmsg": (ctypes.c_char_p, []),
    "folio_strerror": (ctypes.c_char_p, [_int]),
    "folio_begin": (_int, [_pp, _p, ctypes.c_uint]),
    "folio_commit": (_int, [_p]),
    "folio_rollback": (_int, [_p]),
    "folio_exec": (_int, [_p, ctypes.c_char_p]),
    "folio_table_open": (_int, [_pp, _p, ctypes.c_char_p]),
    "folio_table_ncols": (_int, [_p]),
    "folio_table_colname": (ctypes.c_char_p, [_p, _int]),
    "folio_table_without_rowid": (_int, [_p]),
    "folio_insert": (_int, [ctypes.POINTER(_i64), _p, _vals, _int]),
    "folio_update": (_int, [_p, _i64, _vals, _int]),
    "folio_upsert": (_int, [ctypes.POINTER(_i64), _p, _i64, _vals, _int]),
    "folio_patch": (_int, [_p, _i64, ctypes.POINTER(_int), _vals, _int]),
    "folio_delete": (_int, [_p, _i64]),
    "folio_delete_key": (_int, [_p, _vals, _int]),
    "folio_update_key": (_int, [_p, _vals, _int, _vals, _int]),
    "folio_cursor_open": (_int, [_pp, _p, ctypes.c_char_p]),
    "folio_cursor_first": (_int, [_p]),
    "folio_cursor_last": (_int, [_p]),
    "folio_cursor_next": (_int, [_p]),
    "folio_cursor_prev": (_int, [_p]),
    "folio_cursor_seek_rowid": (_int, [_p, _i64]),
    "folio_cursor_seek": (_int, [_p, _vals, _int, _int]),
    "folio_cursor_rowid": (_i64, [_p]),
    "folio_cursor_column": (_int, [ctypes.POINTER(Value), _p, _int]),
    "folio_cursor_close": (None, [_p]),
    "folio_schema_count": (_int, [_p]),
    "folio_schema_get": (_int, [ctypes.POINTER(SchemaEntry), _p, _int]),
    "folio_info_get": (_int, [ctypes.POINTER(Info), _p]),
    "folio_stats": (_int, [_p, STATS_CALLBACK, _p]),
    "folio_check": (_int, [_p, CHECK_CALLBACK, _p, _int]),
    "folio_foreign_key_check": (_int, [_p, ctypes.c_char_p, FK_CHECK_CALLBACK, _p]),
    "folio_checkpoint": (_int, [_p, _int, ctypes.POINTER(_int), ctypes.POINTER(_int)]),
    "folio_backup": (_int, [_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_uint64)]),
    "folio_relate": (_int, [_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                            ctypes.c_double, _vals]),
    "folio_unrelate": (_int, [_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p]),
    "folio_edges_open": (_int, [_pp, _p, ctypes.c_char_p, _int]),
    "folio_edges_kind": (_int, [_p, ctypes.c_char_p]),
    "folio_edges_next": (_int, [_p]),
    "folio_edges_get": (_int, [ctypes.POINTER(Edge), _p]),
    "folio_edges_close": (None, [_p]),
}


def _load():
    """Open libfolio: $FOLIO_LIB when set, else the system's library path."""
    path = os.environ.get("FOLIO_LIB")
    if path:
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            raise ImportError("folio: cannot load FOLIO_LIB=%s: %s" % (path, e)) from e
    tried = []
    for name in ("libfolio.so.0", ctypes.util.find_library("folio")):
        if not name or name in tried:
            continue
        tried.append(name)
        try:
            return ctypes.CDLL(name), name
        except OSError:
            pass
    raise ImportError(
        "folio: libfolio.so not found on the library path (tried %s); install folio, run "
        "ldconfig, or set FOLIO_LIB to the library's path" % ", ".join(tried))


def _bind(cdll):
    missing = []
    for name, (restype, argtypes) in _PROTOTYPES.items():
        try:
            fn = getattr(cdll, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    if missing:
        raise ImportError("folio: %s lacks %s (an older libfolio?)" % (lib_path, ", ".join(missing)))


lib, lib_path = _load()
_bind(lib)
