"""Cursors (ordered walks over a table or one of its indexes) and Rows, the
iterator that Table.rows() and Table.seek() return.

folio_cursor_column() lends TEXT and BLOB bytes only until the cursor moves:
every value is copied into a Python object as it is read. A cursor lives
until it is closed or its transaction ends; the transaction closes the
cursors still open when it ends, so a Cursor never holds a freed handle.
"""

import ctypes

from . import _native as n
from . import _values
from . import errors

_OPS = {
    "eq": n.SEEK_EQ, "==": n.SEEK_EQ,
    "ge": n.SEEK_GE, ">=": n.SEEK_GE,
    "gt": n.SEEK_GT, ">": n.SEEK_GT,
    "le": n.SEEK_LE, "<=": n.SEEK_LE,
    "lt": n.SEEK_LT, "<": n.SEEK_LT,
}


def seek_op(op):
    """The FOLIO_SEEK_* code of 'eq', 'ge', 'gt', 'le' or 'lt' (or ==, >=, >, <=, <)."""
    if isinstance(op, int) and not isinstance(op, bool) and n.SEEK_EQ <= op <= n.SEEK_LT:
        return op
    if isinstance(op, str) and op.lower() in _OPS:
        return _OPS[op.lower()]
    raise ValueError("folio: seek op must be 'eq', 'ge', 'gt', 'le' or 'lt', not %r" % (op,))


class Cursor:
    """An ordered walk over a table (index None: rowid or primary key order)
    or over one of its indexes (folio_cursor). Moves return True when the
    cursor is on a row. Its rows are the table's columns, whichever tree it
    walks. A context manager that closes it."""

    def __init__(self, table, index=None):
        if index is not None and not isinstance(index, str):
            raise TypeError("folio: an index name is a str (or None for the table)")
        self.table = table
        self.index = index
        self._tx = table.transaction
        self._h = None
        self._on_row = False
        self._value = n.Value()
        th = table._enter()
        try:
            out = ctypes.c_void_p()
            rc = n.lib.folio_cursor_open(ctypes.byref(out), th,
                                         index.encode("utf-8") if index is not None else None)
            if rc < 0:
                self._tx._fail(rc)
            self._h = out.value
            self._tx._cursors.add(self)
        finally:
            table._leave()

    def __repr__(self):
        return "<folio.Cursor %s%s%s>" % (self.table.name, "." + self.index if self.index else "",
                                          "" if self._h is not None else " closed")

    def _enter(self):
        self._tx._enter()
        if self._h is None:
            self._tx._leave()
            raise errors.MisuseError("folio: the cursor is closed", n.MISUSE)
        return self._h

    def _moved(self, rc):
        """The result of a move: True on a row; raises on an error."""
        if rc < 0:
            self._on_row = False
            self._tx._fail(rc)
        self._on_row = rc == n.ROW
        return self._on_row

    def _move(self, fn, *args):
        h = self._enter()
        try:
            return self._moved(fn(h, *args))
        finally:
            self._tx._leave()

    def first(self):
        """Move to the first row; False if there is none."""
        return self._move(n.lib.folio_cursor_first)

    def last(self):
        """Move to the last row; False if there is none."""
        return self._move(n.lib.folio_cursor_last)

    def next(self):
        """Move to the next row; False past the end."""
        return self._move(n.lib.folio_cursor_next)

    def prev(self):
        """Move to the previous row; False before the start."""
        return self._move(n.lib.folio_cursor_prev)

    def seek_rowid(self, rowid):
        """Table cursors of rowid tables: move to the row `rowid`; False if
        there is none."""
        if isinstance(rowid, bool) or not isinstance(rowid, int):
            raise TypeError("folio: a rowid is an int")
        return self._move(n.lib.folio_cursor_seek_rowid, rowid)

    def seek(self, key, op="eq"):
        """Move by key: the index's columns (or the rowid, or the primary key of
        a WITHOUT ROWID table), compared with the index's collations; `key` is
        one value or a tuple, possibly a prefix. 'eq' and 'ge' find the first
        entry equal to or after the key, 'gt' the first after it, 'le' and 'lt'
        the last entry at or before it. False when no entry satisfies `op`."""
        code = seek_op(op)
        keep = []
        kv, nkey = _values.to_array(_values.key_values(key), keep)
        return self._move(n.lib.folio_cursor_seek, kv, nkey, code)

    @property
    def rowid(self):
        """Rowid of the current row (0 for WITHOUT ROWID tables), None when the
        cursor is not on a row."""
        h = self._enter()
        try:
            return n.lib.folio_cursor_rowid(h) if self._on_row else None
        finally:
            self._tx._leave()

    def _column(self, h, col):
        rc = n.lib.folio_cursor_column(ctypes.byref(self._value), h, col)
        if rc < 0:
            self._tx._fail(rc)
        return _values.get_value(self._value)

    def column(self, col):
        """The value of table column `col` (an index) of the current row."""
        if isinstance(col, bool) or not isinstance(col, int):
            raise TypeError("folio: a column index is an int")
        h = self._enter()
        try:
            return self._column(h, col)
        finally:
            self._tx._leave()

    def row(self):
        """The current row: a tuple of the table's columns."""
        h = self._enter()
        try:
            ncols = n.lib.folio_table_ncols(self.table._h)
            return tuple(self._column(h, i) for i in range(ncols))
        finally:
            self._tx._leave()

    def _position(self):
        """What tells the current entry apart from every other: the rowid, or,
        for WITHOUT ROWID tables (rowid 0), the row with its primary key."""
        return ("row", self.row()) if self.table.without_rowid else ("rowid", self.rowid)

    def equal_range_end(self, key):
        """The position of the first entry past those equal to `key` (as
        _position gives it), or None when they run to the end."""
        with Cursor(self.table, self.index) as end:
            return end._position() if end.seek(key, n.SEEK_GT) else None

    def _release(self):
        """Close the C cursor (the transaction's lock is held)."""
        h, self._h = self._h, None
        self._on_row = False
        self._tx._cursors.discard(self)
        if h is not None:
            n.lib.folio_cursor_close(h)

    def close(self):
        """Close the cursor. Closing a closed cursor, or one whose transaction
        has ended (which closed it), does nothing."""
        if self._h is None:
            return
        self._tx._enter()
        try:
            self._release()
        finally:
            self._tx._leave()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:  # pragma: no cover - a finalizer must not raise
            pass


class Rows:
    """An iterator of row tuples over a cursor, closing the cursor when the
    walk ends (or on close(), or at the end of a `with` block)."""

    def __init__(self, cursor, start, step="next", stop=None):
        # start: "first" or "last" to move there first, None when the cursor
        # is already on the first row to give, "done" for no rows at all.
        self.cursor = cursor
        self._start = start
        self._step = cursor.prev if (step == "prev" or start == "last") else cursor.next
        self._stop = stop
        self._done = False
        if start == "done":
            self.close()

    def __iter__(self):
        return self

    def __next__(self):
        if self._done:
            raise StopIteration
        c = self.cursor
        if self._start == "first":
            on_row = c.first()
        elif self._start == "last":
            on_row = c.last()
        elif self._start is None:
            on_row = True
        else:
            on_row = self._step()
        self._start = "step"
        if on_row and not (self._stop and self._stop[0] == "rowid" and c.rowid == self._stop[1]):
            row = c.row()
            if not (self._stop and self._stop == ("row", row)):
                return row
        # Off the end, or at the entry that ends an 'eq' range.
        self.close()
        raise StopIteration

    def close(self):
        """Stop the walk and close its cursor."""
        self._done = True
        self.cursor.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False
