"""Exceptions: folio.Error and one subclass per negative FOLIO_* code.

Every error that libfolio returns is raised as the subclass of its code, with
the code in `.code` and folio_errmsg()'s message (which names the page, the
constraint or the feature) as the exception's text. Misuse found by the
binding itself (a closed database, a finished transaction) is MisuseError too.
Wrong Python types are TypeError, as Python's convention wants.
"""

from . import _native as n


class Error(Exception):
    """A failure reported by libfolio. `code` is the FOLIO_* code (negative)."""

    code = n.ERROR

    def __init__(self, message, code=None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class MisuseError(Error):
    """FOLIO_MISUSE: a bad argument or call sequence."""
    code = n.MISUSE


class NoMemError(Error):
    """FOLIO_NOMEM: out of memory."""
    code = n.NOMEM


class IOErr(Error):
    """FOLIO_IOERR: the operating system reported an I/O error."""
    code = n.IOERR


class CorruptError(Error):
    """FOLIO_CORRUPT: the file is damaged; the message names the page."""
    code = n.CORRUPT


class NotADatabaseError(Error):
    """FOLIO_NOTADB: the file is not a SQLite database."""
    code = n.NOTADB


class UnsupportedError(Error):
    """FOLIO_UNSUPPORTED: a feature folio does not support here."""
    code = n.UNSUPPORTED


class BusyError(Error):
    """FOLIO_BUSY: another writer holds the lock."""
    code = n.BUSY


class ReadOnlyError(Error):
    """FOLIO_READONLY: a write on a read-only handle or transaction."""
    code = n.READONLY


class ConstraintError(Error):
    """FOLIO_CONSTRAINT: NOT NULL, UNIQUE, PRIMARY KEY or type violated."""
    code = n.CONSTRAINT


class FullError(Error):
    """FOLIO_FULL: the disk is full."""
    code = n.FULL


class NotFoundError(Error):
    """FOLIO_NOTFOUND_ERR: no such table, index or column."""
    code = n.NOTFOUND_ERR


class CantOpenError(Error):
    """FOLIO_CANTOPEN: the file cannot be opened."""
    code = n.CANTOPEN


class TooBigError(Error):
    """FOLIO_TOOBIG: a value or row exceeds the size limit."""
    code = n.TOOBIG


class MismatchError(Error):
    """FOLIO_MISMATCH: a value has the wrong type for a STRICT column."""
    code = n.MISMATCH


class TransactionTimeoutError(Error):
    """FOLIO_TIMEOUT: the transaction ran past the handle's txn_timeout_ms."""
    code = n.TIMEOUT


class ConflictError(Error):
    """FOLIO_CONFLICT: a concurrent transaction lost to a commit after its
    snapshot (it was rolled back; run it again)."""
    code = n.CONFLICT


_BY_CODE = {cls.code: cls for cls in (
    MisuseError, NoMemError, IOErr, CorruptError, NotADatabaseError, UnsupportedError,
    BusyError, ReadOnlyError, ConstraintError, FullError, NotFoundError, CantOpenError,
    TooBigError, MismatchError, TransactionTimeoutError, ConflictError)}


def error_for(code, message):
    """The exception for a negative FOLIO_* code (Error for codes without a subclass)."""
    return _BY_CODE.get(code, Error)(message, code)


def strerror(code):
    """folio_strerror(): the static description of a return code."""
    return n.lib.folio_strerror(code).decode("utf-8", "replace")


def raise_db(db_handle, code):
    """Raise the error `code` with the calling thread's last message on `db_handle`."""
    message = n.lib.folio_errmsg(db_handle).decode("utf-8", "replace")
    if message == "not an error":
        message = strerror(code)
    raise error_for(code, message)
