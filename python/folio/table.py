"""Tables: row operations by rowid (or by primary key for WITHOUT ROWID
tables), lookups, walks and index seeks.

A Table lives as long as its transaction (folio.h: the handle need not be
closed). Methods that change rows return whether the row was there: update,
patch and the delete calls return False for a missing row (libfolio's
FOLIO_NOTFOUND status), where SQL would report zero rows changed.
"""

import ctypes

from . import _native as n
from . import _values
from . import errors
from .cursor import Cursor, Rows, seek_op


class Table:
    """A table opened in a transaction (folio_table)."""

    def __init__(self, tx, handle, name, ddl_count):
        self.transaction = tx
        self.name = name
        self._h = handle
        self._ddl_count = ddl_count

    def __repr__(self):
        return "<folio.Table %r>" % self.name

    def _enter(self):
        tx = self.transaction
        th = tx._enter()
        if self._ddl_count != tx._ddl_count:
            # DDL ran since the handle was opened: the table may be gone, or
            # another by that name may stand in its place. Look it up again.
            out = ctypes.c_void_p()
            rc = n.lib.folio_table_open(ctypes.byref(out), th, self.name.encode("utf-8"))
            if rc < 0:
                try:
                    tx._fail(rc)
                finally:
                    tx._leave()
            self._h, self._ddl_count = out.value, tx._ddl_count
        return self._h

    def _leave(self):
        self.transaction._leave()

    def _fail(self, rc):
        self.transaction._fail(rc)

    # ---- the table's shape ----

    @property
    def columns(self):
        """The column names, in declared order, as a tuple."""
        h = self._enter()
        try:
            return tuple(n.lib.folio_table_colname(h, i).decode("utf-8", "surrogateescape")
                         for i in range(n.lib.folio_table_ncols(h)))
        finally:
            self._leave()

    @property
    def without_rowid(self):
        """Whether the table is WITHOUT ROWID (rows are found by primary key)."""
        h = self._enter()
        try:
            return bool(n.lib.folio_table_without_rowid(h))
        finally:
            self._leave()

    def _column_index(self, column, names):
        if isinstance(column, bool) or not isinstance(column, (int, str)):
            raise TypeError("folio: a column is named by a str or an int index")
        if isinstance(column, int):
            if not 0 <= column < len(names):
                raise errors.NotFoundError("folio: column %d out of range (table %s has %d)" %
                                           (column, self.name, len(names)), n.NOTFOUND_ERR)
            return column
        folded = column.casefold()
        for i, name in enumerate(names):
            if name.casefold() == folded:
                return i
        raise errors.NotFoundError("folio: no such column in %s: %s" % (self.name, column),
                                   n.NOTFOUND_ERR)

    # ---- writes ----
    # `values` are the row's columns in declared order; fewer values than
    # columns leave the later columns to their defaults.

    def insert(self, values):
        """Insert a row; returns its rowid (None for a WITHOUT ROWID table). A
        NULL INTEGER PRIMARY KEY takes the next rowid."""
        keep = []
        vals, count = _values.to_array(_values.as_sequence(values, "values"), keep)
        h = self._enter()
        try:
            rowid = ctypes.c_int64(0)
            rc = n.lib.folio_insert(ctypes.byref(rowid), h, vals, count)
            if rc < 0:
                self._fail(rc)
            return None if n.lib.folio_table_without_rowid(h) else rowid.value
        finally:
            self._leave()

    def update(self, rowid, values):
        """Replace the row `rowid`; False if there is no such row."""
        keep = []
        vals, count = _values.to_array(_values.as_sequence(values, "values"), keep)
        h = self._enter()
        try:
            return self._changed(n.lib.folio_update(h, _rowid(rowid), vals, count))
        finally:
            self._leave()

    def upsert(self, rowid, values):
        """Replace the row `rowid`, or insert it with that rowid; returns the
        rowid. For a WITHOUT ROWID table `rowid` must be None (the key is in
        the values) and None is returned."""
        keep = []
        vals, count = _values.to_array(_values.as_sequence(values, "values"), keep)
        h = self._enter()
        try:
            wr = bool(n.lib.folio_table_without_rowid(h))
            if wr and rowid is not None:
                raise errors.MisuseError("folio: table %s is WITHOUT ROWID: upsert(None, values)"
                                         % self.name, n.MISUSE)
            out = ctypes.c_int64(0)
            rc = n.lib.folio_upsert(ctypes.byref(out), h, 0 if wr else _rowid(rowid), vals,
                                    count)
            if rc < 0:
                self._fail(rc)
            return None if wr else out.value
        finally:
            self._leave()

    def patch(self, rowid, changes):
        """Set some columns of the row `rowid`: `changes` maps column names
        (case-insensitive) or indexes to values. False if there is no such row."""
        if not isinstance(changes, dict):
            raise TypeError("folio: patch takes a dict {column: value}")
        names = self.columns
        cols = [self._column_index(c, names) for c in changes]
        keep = []
        vals, count = _values.to_array(list(changes.values()), keep)
        col_array = (ctypes.c_int * max(count, 1))(*cols)
        h = self._enter()
        try:
            return self._changed(n.lib.folio_patch(h, _rowid(rowid), col_array, vals, count))
        finally:
            self._leave()

    def delete(self, rowid):
        """Delete the row `rowid`; False if there is no such row."""
        h = self._enter()
        try:
            return self._changed(n.lib.folio_delete(h, _rowid(rowid)))
        finally:
            self._leave()

    def update_key(self, key, values):
        """WITHOUT ROWID: replace the row whose primary key is `key` (one value,
        or a tuple for a key of several columns); False if there is none."""
        keep = []
        kv, nkey = _values.to_array(_values.key_values(key), keep)
        vals, count = _values.to_array(_values.as_sequence(values, "values"), keep)
        h = self._enter()
        try:
            return self._changed(n.lib.folio_update_key(h, kv, nkey, vals, count))
        finally:
            self._leave()

    def delete_key(self, key):
        """WITHOUT ROWID: delete the row whose primary key is `key`; False if
        there is none."""
        keep = []
        kv, nkey = _values.to_array(_values.key_values(key), keep)
        h = self._enter()
        try:
            return self._changed(n.lib.folio_delete_key(h, kv, nkey))
        finally:
            self._leave()

    def _changed(self, rc):
        if rc < 0:
            self._fail(rc)
        return rc != n.NOTFOUND

    # ---- reads ----

    def cursor(self, index=None):
        """A Cursor over the table (index None: rowid or primary key order) or
        over one of its indexes. Close it, or use it as a context manager."""
        return Cursor(self, index)

    def get(self, rowid):
        """The row `rowid` as a tuple of its columns, or None."""
        with Cursor(self, None) as c:
            return c.row() if c.seek_rowid(rowid) else None

    def get_key(self, key):
        """WITHOUT ROWID: the row whose primary key is `key` (one value, or a
        tuple of the key's columns), or None."""
        with Cursor(self, None) as c:
            return c.row() if c.seek(key, "eq") else None

    def rows(self, reverse=False):
        """An iterator of every row (tuples of the columns) in rowid order, or
        primary key order for a WITHOUT ROWID table; `reverse` walks backwards.
        Its cursor closes when the walk ends, on close(), or at the end of a
        `with` block."""
        return Rows(Cursor(self, None), "last" if reverse else "first")

    def __iter__(self):
        return self.rows()

    def seek(self, index, key, op="ge"):
        """Rows by key through `index` (None: the rowid, or the primary key of
        a WITHOUT ROWID table), compared with the index's collations; `key` is
        one value or a tuple, a prefix of the index's columns. op 'eq' gives
        the rows whose key equals `key`; 'ge' and 'gt' the rows from the first
        match on, in index order; 'le' and 'lt' the rows from the last match
        back, in reverse index order. Returns an iterator of row tuples, as
        rows() does."""
        op_code = seek_op(op)
        cursor = Cursor(self, index)
        try:
            found = cursor.seek(key, op_code)
            stop = cursor.equal_range_end(key) if found and op_code == n.SEEK_EQ else None
        except BaseException:
            cursor.close()
            raise
        step = "prev" if op_code in (n.SEEK_LE, n.SEEK_LT) else "next"
        return Rows(cursor, None if found else "done", step, stop)


def _rowid(rowid):
    if isinstance(rowid, bool) or not isinstance(rowid, int):
        raise TypeError("folio: a rowid is an int")
    if not -(1 << 63) <= rowid < (1 << 63):
        raise OverflowError("folio: rowid %d does not fit in 64 bits" % rowid)
    return rowid
