"""Databases and transactions.

A Database may be shared by threads (libfolio's folio_db is thread-safe). A
Transaction, with the tables and cursors opened through it, belongs to one
thread at a time, as in folio.h: using it from a second thread while a call
of the first is running raises MisuseError instead of corrupting memory.

Handles are checked before every call into libfolio, so a closed database,
a finished transaction, or a cursor of a finished transaction raises
MisuseError and never reaches a freed C object.
"""

import collections
import ctypes
import os
import threading
import weakref

from . import _native as n
from . import _values, errors
from .table import Table

_SYNC = {"off": n.SYNC_OFF, "normal": n.SYNC_NORMAL, "full": n.SYNC_FULL}

_CHECKPOINT = {
    "passive": n.CHECKPOINT_PASSIVE,
    "full": n.CHECKPOINT_FULL,
    "restart": n.CHECKPOINT_RESTART,
    "truncate": n.CHECKPOINT_TRUNCATE,
}

# Options whose value is a count of something, as the folio_options field.
_COUNT_OPTIONS = ("cache_bytes", "page_size", "wal_autocheckpoint", "busy_timeout_ms",
                  "mmap_bytes", "txn_timeout_ms", "max_write_txns")
_FLAG_OPTIONS = {"readonly": n.OPEN_READONLY, "create": n.OPEN_CREATE,
                 "inline_checkpoint": n.OPEN_INLINE_CHECKPOINT}

SchemaEntry = collections.namedtuple("SchemaEntry", "type name tbl_name rootpage sql")
SchemaEntry.__doc__ = "One row of sqlite_schema, as folio_schema_get() gives it."

Edge = collections.namedtuple("Edge", "source target kind weight data dir")
Edge.__doc__ = ("One graph edge, as folio_edges_get() gives it: dir is 'out' or 'in' (the "
                "walk that found it); weight is nan when the stored weight is no number.")

BtreeStats = collections.namedtuple(
    "BtreeStats", [f for f, _ in n.BtreeStats._fields_])
BtreeStats.__doc__ = "Storage figures of one b-tree, as folio_stats() gives them."


def _options(options):
    """A folio_options struct from open()'s keyword arguments."""
    opts = n.Options(n.OPTIONS_VERSION, n.OPEN_CREATE, n.SYNC_NORMAL, 0, 4096, 1000, 0,
                     n.MMAP_DEFAULT, 0, 0)
    opts.log_compression = n.LOG_AS_ENABLED
    for name, value in options.items():
        if name in _FLAG_OPTIONS:
            if not isinstance(value, bool):
                raise TypeError("folio.open: %s must be True or False" % name)
            if value:
                opts.flags |= _FLAG_OPTIONS[name]
            else:
                opts.flags &= ~_FLAG_OPTIONS[name]
        elif name == "sync":
            if not isinstance(value, str):
                raise TypeError("folio.open: sync must be 'off', 'normal' or 'full'")
            if value.lower() not in _SYNC:
                raise ValueError("folio.open: sync must be 'off', 'normal' or 'full', not %r" %
                                 value)
            opts.sync = _SYNC[value.lower()]
        elif name == "log_compression":
            codecs = {"zstd": n.LOG_ZSTD, "lz4": n.LOG_LZ4}
            if value is None:
                opts.log_compression = n.LOG_AS_ENABLED
                continue
            if not isinstance(value, str) or value.lower() not in codecs:
                raise ValueError("folio.open: log_compression must be 'zstd' or 'lz4', not %r" %
                                 (value,))
            opts.log_compression = codecs[value.lower()]
        elif name in ("foreign_keys", "recursive_triggers"):
            if not isinstance(value, bool):
                raise TypeError("folio.open: %s must be True or False" % name)
            setattr(opts, name, 1 if value else 0)
        elif name in _COUNT_OPTIONS:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError("folio.open: %s must be an int" % name)
            limit = (1 << (8 * ctypes.sizeof(ctypes.c_size_t if name.endswith("_bytes")
                                             else ctypes.c_uint))) - 1
            if not 0 <= value <= limit:
                raise ValueError("folio.open: %s out of range: %d" % (name, value))
            setattr(opts, name, value)
        else:
            raise TypeError("folio.open: unknown option %r (options: %s)" % (
                name, ", ".join(sorted(list(_FLAG_OPTIONS) + ["sync", "foreign_keys", "recursive_triggers",
                                                         "log_compression"] +
                                       list(_COUNT_OPTIONS)))))
    return opts


def open(path, **options):  # noqa: A001 (the module's entry point, as sqlite3.connect)
    """Open (or create) the database at `path` and return a Database.

    Options, as the fields of folio_options (defaults as FOLIO_OPTIONS_INIT):
    readonly=False, create=True, inline_checkpoint=False, sync='normal'
    ('off', 'normal' or 'full'), cache_bytes=0 (64 MiB), page_size=4096 (of new
    files), wal_autocheckpoint=1000 (frames; 0 never), busy_timeout_ms=0,
    mmap_bytes=FOLIO_MMAP_DEFAULT (16 GiB of address space; 0 off),
    txn_timeout_ms=0 (no limit; past it TransactionTimeoutError), foreign_keys=False
    (enforce foreign keys as SQLite's PRAGMA foreign_keys: a violation raises
    ConstraintError), recursive_triggers=False (as SQLite's PRAGMA
    recursive_triggers), max_write_txns=0 (write transactions live at once; 0 no
    limit: past it transaction() waits busy_timeout_ms, then BusyError),
    log_compression (None: as the commit log was enabled; 'zstd' or 'lz4': the
    records this handle writes). An unknown option is a TypeError.
    """
    return Database(path, **options)


class Database:
    """An open database file (folio_db). Thread-safe; a context manager that
    closes it on exit."""

    def __init__(self, path, **options):
        self._h = None
        opts = _options(options)
        self.path = os.fspath(path)
        self._lock = threading.Lock()
        self._txns = weakref.WeakSet()
        self._calls = 0  # calls under way in other threads: close() must wait for them
        out = ctypes.c_void_p()
        rc = n.lib.folio_open(ctypes.byref(out), os.fsencode(self.path), ctypes.byref(opts))
        if rc < 0:
            raise errors.error_for(rc, n.lib.folio_open_errmsg().decode("utf-8", "replace"))
        self._h = out.value

    def __repr__(self):
        return "<folio.Database %r%s>" % (self.path, " closed" if self._h is None else "")

    @property
    def closed(self):
        """Whether close() was called."""
        return self._h is None

    def _call_begin(self):
        """The handle, counted as in use until _call_end (close() refuses)."""
        with self._lock:
            if self._h is None:
                raise errors.MisuseError("folio: the database is closed", n.MISUSE)
            self._calls += 1
            return self._h

    def _call_end(self):
        with self._lock:
            self._calls -= 1

    def transaction(self, write=False, concurrent=False, serializable=False,
                    read_committed=False):
        """Begin a transaction and return it: a read snapshot, or the one writer
        (waits busy_timeout_ms for the lock, then BusyError), or with
        concurrent=True a concurrent writer (FOLIO_TXN_CONCURRENT: it runs beside
        others on its snapshot; its commit raises ConflictError when another
        commit changed a row it changed). serializable=True (concurrent implied)
        checks what it read too; read_committed=True lets a reader or a
        concurrent writer see each new commit as it opens cursors. As a context
        manager it commits when the block ends and rolls back on an exception."""
        h = self._call_begin()
        try:
            out = ctypes.c_void_p()
            concurrent = concurrent or serializable
            flags = n.TXN_CONCURRENT if concurrent else n.TXN_WRITE if write else n.TXN_READ
            if serializable:
                flags |= n.TXN_SERIALIZABLE
            if read_committed:
                flags |= n.TXN_READ_COMMITTED
            rc = n.lib.folio_begin(ctypes.byref(out), h, flags)
            if rc < 0:
                errors.raise_db(h, rc)
            tx = Transaction(self, out.value, bool(write or concurrent))
            with self._lock:
                self._txns.add(tx)
            return tx
        finally:
            self._call_end()

    def checkpoint(self, mode="passive"):
        """Copy WAL frames into the database file. `mode` is 'passive', 'full',
        'restart' or 'truncate'. Returns (frames in the WAL, frames copied)."""
        if not isinstance(mode, str) or mode.lower() not in _CHECKPOINT:
            raise ValueError("folio: checkpoint mode must be 'passive', 'full', 'restart' or "
                             "'truncate', not %r" % (mode,))
        h = self._call_begin()
        try:
            log, done = ctypes.c_int(0), ctypes.c_int(0)
            rc = n.lib.folio_checkpoint(h, _CHECKPOINT[mode.lower()], ctypes.byref(log),
                                        ctypes.byref(done))
            if rc < 0:
                errors.raise_db(h, rc)
            return log.value, done.value
        finally:
            self._call_end()

    def backup(self, dest):
        """Copy one version of the database to the new file `dest` (a str or
        path-like) while other connections go on writing (folio_backup): the
        copy is synced, read back against a checksum and integrity-checked
        before it takes its name, so `dest` appears whole or not at all.
        Returns the version the copy holds. folio.Error "output file already
        exists" when `dest` exists."""
        path = os.fsencode(os.fspath(dest))
        if not path:
            raise ValueError("folio: backup needs a file name")
        h = self._call_begin()
        try:
            version = ctypes.c_uint64(0)
            rc = n.lib.folio_backup(h, path, ctypes.byref(version))
            if rc < 0:
                errors.raise_db(h, rc)
            return version.value
        finally:
            self._call_end()

    def close(self):
        """Close the database (a clean close checkpoints and removes the -wal).
        Every transaction must be finished first, else MisuseError. Closing a
        closed database does nothing."""
        with self._lock:
            if self._h is None:
                return
            if self._calls or any(tx.active for tx in self._txns):
                raise errors.MisuseError(
                    "folio: close: a transaction of this database is still open, or a call "
                    "of another thread is under way", n.MISUSE)
            h, self._h = self._h, None
        rc = n.lib.folio_close(h)
        if rc < 0:
            raise errors.error_for(rc, errors.strerror(rc))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
            return False
        # An exception is on its way: a transaction left open by it must not
        # hide it. The database then closes when its transactions are gone.
        try:
            self.close()
        except errors.MisuseError:
            pass
        return False

    def __del__(self):
        try:
            if self._h is not None:
                self.close()
        except Exception:  # pragma: no cover - a finalizer must not raise
            pass


class Transaction:
    """A transaction (folio_txn): a snapshot for reading, or the writer.

    Begun by Database.transaction(). commit() or rollback() ends it (a read
    transaction's commit just ends it); as a context manager it commits when
    the block ends and rolls back when it ends with an exception. A
    transaction dropped while still open is rolled back.
    """

    def __init__(self, db, handle, write):
        self.database = db
        self.write = write
        self._h = handle
        self._lock = threading.RLock()
        self._cursors = weakref.WeakSet()
        self._ddl_count = 0  # DDL statements run: Table handles opened before are looked up again

    def __repr__(self):
        return "<folio.Transaction %s %s>" % ("write" if self.write else "read",
                                             "active" if self._h is not None else "finished")

    @property
    def active(self):
        """Whether the transaction is neither committed nor rolled back."""
        return self._h is not None

    # A transaction belongs to one thread at a time: _enter refuses a second
    # thread while a call of the first runs (the lock is re-entrant for the
    # binding's own nested calls), and refuses a finished transaction.
    def _enter(self):
        if not self._lock.acquire(blocking=False):
            raise errors.MisuseError(
                "folio: the transaction is in use by another thread (a transaction belongs to "
                "one thread at a time)", n.MISUSE)
        if self._h is None:
            self._lock.release()
            raise errors.MisuseError("folio: the transaction is finished", n.MISUSE)
        return self._h

    def _leave(self):
        self._lock.release()

    def _fail(self, rc):
        errors.raise_db(self.database._h, rc)

    def execute(self, ddl):
        """Run one DDL statement: CREATE/DROP TABLE, CREATE/DROP INDEX.

        The transaction's open cursors are closed first (a cursor must not
        outlive the tree it walks), and Table objects find their table again
        by name at their next call (NotFoundError once it is dropped)."""
        if not isinstance(ddl, str):
            raise TypeError("folio: execute takes a str")
        h = self._enter()
        try:
            for cursor in list(self._cursors):
                cursor._release()
            self._ddl_count += 1
            rc = n.lib.folio_exec(h, ddl.encode("utf-8"))
            if rc < 0:
                self._fail(rc)
        finally:
            self._leave()

    def relate(self, source, target, kind=None, weight=1.0, data=None):
        """Relate `source` to `target` (folio_relate): insert the edge (source,
        target, kind) in _relations, or set the weight and data of that edge
        when it exists; insert the missing concepts in _concepts. The first
        relate of a database creates the tables. kind None is the empty kind;
        weight is a number (not nan); data any value (None: NULL)."""
        source, target = _edge_key(source, "source"), _edge_key(target, "target")
        kind = None if kind is None else _edge_key(kind, "kind", empty_ok=True)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            raise TypeError("folio: weight is a number")
        keep = []
        value = n.Value()
        _values.set_value(value, data, keep)
        h = self._enter()
        try:
            before = n.lib.folio_schema_count(h)
            rc = n.lib.folio_relate(h, source, target, kind, float(weight), ctypes.byref(value))
            if n.lib.folio_schema_count(h) != before:
                self._ddl_count += 1  # the tables were created: Table objects look again
            if rc < 0:
                self._fail(rc)
        finally:
            self._leave()

    def unrelate(self, source, target, kind=None):
        """Delete the edge (source, target, kind), or with kind None every edge
        from source to target (folio_unrelate). Returns whether one was
        deleted. Concepts stay."""
        source, target = _edge_key(source, "source"), _edge_key(target, "target")
        kind = None if kind is None else _edge_key(kind, "kind", empty_ok=True)
        h = self._enter()
        try:
            rc = n.lib.folio_unrelate(h, source, target, kind)
            if rc < 0:
                self._fail(rc)
            return rc == n.OK
        finally:
            self._leave()

    def edges(self, key, out=True, into=True, kind=None):
        """The edges of `key` as a list of Edge: with `out` those whose source
        is key (in target, kind order), with `into` those whose target is key
        (in kind, source order), outgoing first; an edge from key to itself
        once. `kind` keeps the edges of that kind only. A database without
        the edge tables has no edges."""
        key = _edge_key(key, "key")
        direction = (n.EDGES_OUT if out else 0) | (n.EDGES_IN if into else 0)
        if not direction:
            raise ValueError("folio: edges needs out, into or both")
        kind = None if kind is None else _edge_key(kind, "kind", empty_ok=True)
        h = self._enter()
        walker = ctypes.c_void_p()
        try:
            rc = n.lib.folio_edges_open(ctypes.byref(walker), h, key, direction)
            if rc >= 0 and kind is not None:
                rc = n.lib.folio_edges_kind(walker, kind)
            found = []
            edge = n.Edge()
            while rc >= 0:
                rc = n.lib.folio_edges_next(walker)
                if rc != n.ROW:
                    break
                rc = n.lib.folio_edges_get(ctypes.byref(edge), walker)
                if rc >= 0:
                    found.append(Edge(_text(edge.source_key), _text(edge.target_key),
                                      _text(edge.kind), edge.weight, _values.get_value(edge.data),
                                      "out" if edge.dir == n.EDGES_OUT else "in"))
            if rc < 0:
                self._fail(rc)
            return found
        finally:
            n.lib.folio_edges_close(walker)
            self._leave()

    def table(self, name):
        """The table `name` (case-insensitive); NotFoundError if there is none."""
        if not isinstance(name, str):
            raise TypeError("folio: a table name is a str")
        h = self._enter()
        try:
            out = ctypes.c_void_p()
            rc = n.lib.folio_table_open(ctypes.byref(out), h, name.encode("utf-8"))
            if rc < 0:
                self._fail(rc)
            return Table(self, out.value, name, self._ddl_count)
        finally:
            self._leave()

    def schema(self):
        """The entries of sqlite_schema visible to this transaction, as a list
        of SchemaEntry(type, name, tbl_name, rootpage, sql) (sql is None for
        automatic indexes)."""
        h = self._enter()
        try:
            count = n.lib.folio_schema_count(h)
            if count < 0:
                self._fail(count)
            entries = []
            e = n.SchemaEntry()
            for i in range(count):
                rc = n.lib.folio_schema_get(ctypes.byref(e), h, i)
                if rc < 0:
                    self._fail(rc)
                entries.append(SchemaEntry(_text(e.type), _text(e.name), _text(e.tbl_name),
                                           e.rootpage, _text(e.sql)))
            return entries
        finally:
            self._leave()

    def info(self):
        """Database header fields and file figures (folio_info) as a dict."""
        h = self._enter()
        try:
            out = n.Info()
            rc = n.lib.folio_info_get(ctypes.byref(out), h)
            if rc < 0:
                self._fail(rc)
            info = {name: getattr(out, name) for name, _ in n.Info._fields_}
            info["checkpoint_note"] = _text(out.checkpoint_note) or ""
            info["read_marks"] = list(out.read_marks)
            info["write_holder"] = _text(out.write_holder) or ""
            info["ckpt_holder"] = _text(out.ckpt_holder) or ""
            return info
        finally:
            self._leave()

    def stats(self):
        """Storage figures of every b-tree (sqlite_schema first), as a list of
        BtreeStats."""
        h = self._enter()
        try:
            found = []

            def each(_arg, s):
                st = s.contents
                found.append(BtreeStats(*[_text(getattr(st, f)) if f in ("name", "tbl_name")
                                          else getattr(st, f) for f in BtreeStats._fields]))
                return 0

            rc = n.lib.folio_stats(h, n.STATS_CALLBACK(each), None)
            if rc < 0:
                self._fail(rc)
            return found
        finally:
            self._leave()

    def check(self, max_errors=0):
        """Full integrity check: a list of problems ("page N: ..."), empty when
        the file is sound. At most `max_errors` (0 = 100) are reported."""
        h = self._enter()
        try:
            problems = []

            def each(_arg, msg):
                problems.append(_text(msg))
                return 0

            rc = n.lib.folio_check(h, n.CHECK_CALLBACK(each), None, max_errors)
            if rc < 0 and not (rc == n.CORRUPT and problems):
                self._fail(rc)
            return problems
        finally:
            self._leave()

    def foreign_key_check(self, table=None):
        """PRAGMA foreign_key_check: the rows (of `table`, else of every table)
        whose foreign key finds no parent row, as tuples (table, rowid or None
        for a WITHOUT ROWID table, parent table, constraint id). Works whether
        or not the database was opened with foreign_keys=True."""
        h = self._enter()
        try:
            found = []

            def each(_arg, v):
                v = v.contents
                found.append((_text(v.table), v.rowid if v.has_rowid else None,
                              _text(v.parent), v.fkid))
                return 0

            name = None if table is None else os.fsencode(table)
            rc = n.lib.folio_foreign_key_check(h, name, n.FK_CHECK_CALLBACK(each), None)
            if rc < 0:
                self._fail(rc)
            return found
        finally:
            self._leave()

    def _finish(self, commit):
        h = self._enter()
        try:
            # Cursors die with the transaction: close them first, so that no
            # Cursor object is left holding a freed handle.
            for cursor in list(self._cursors):
                cursor._release()
            self._h = None
            with self.database._lock:
                self.database._txns.discard(self)
            rc = n.lib.folio_commit(h) if commit else n.lib.folio_rollback(h)
            if rc < 0:
                self._fail(rc)
        finally:
            self._leave()

    def commit(self):
        """Commit the transaction (a read transaction just ends). The
        transaction is over even when the commit fails (it is then rolled
        back)."""
        self._finish(True)

    def rollback(self):
        """Roll the transaction back."""
        self._finish(False)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._h is None:
            return False
        if exc_type is None:
            self.commit()
        else:
            self.rollback()
        return False

    def __del__(self):
        try:
            if self._h is not None:
                self.rollback()
        except Exception:  # pragma: no cover - a finalizer must not raise
            pass


def _edge_key(value, what, empty_ok=False):
    """A key or kind of the edge calls, as the UTF-8 bytes of a str."""
    if not isinstance(value, str):
        raise TypeError("folio: %s is a str" % what)
    data = value.encode("utf-8", _values.TEXT_ERRORS)
    if b"\0" in data:
        raise ValueError("folio: %s holds a NUL character" % what)
    if not data and not empty_ok:
        raise ValueError("folio: %s is empty" % what)
    return data


def _text(raw):
    return None if raw is None else raw.decode("utf-8", "surrogateescape")
