"""folio: Python binding of libfolio, an embedded storage engine that reads and
writes SQLite database files through a typed record API.

    import folio

    with folio.open("app.db") as db:
        with db.transaction(write=True) as tx:
            tx.execute("CREATE TABLE user(id INTEGER PRIMARY KEY, name TEXT, age INT)")
            tx.execute("CREATE INDEX user_name ON user(name COLLATE NOCASE)")
            rowid = tx.table("user").insert([None, "Ada", 36])
        with db.transaction() as tx:
            user = tx.table("user")
            print(user.get(rowid), list(user.seek("user_name", "ada", "eq")))

The binding loads libfolio.so through ctypes: from $FOLIO_LIB when it is set,
else from the system's library path. See python/README.md.
"""

from ._native import lib_path
from .cursor import Cursor, Rows
from .database import BtreeStats, Database, Edge, SchemaEntry, Transaction, open
from .errors import (BusyError, CantOpenError, ConflictError, ConstraintError, CorruptError,
                     Error, FullError,
                     IOErr, MismatchError, MisuseError, NoMemError, NotADatabaseError,
                     NotFoundError, ReadOnlyError, TooBigError, TransactionTimeoutError,
                     UnsupportedError, strerror)
from .table import Table

__version__ = "0.1.0"

__all__ = [
    "open", "Database", "Transaction", "Table", "Cursor", "Rows", "SchemaEntry", "BtreeStats",
    "Edge",
    "Error", "MisuseError", "NoMemError", "IOErr", "CorruptError", "NotADatabaseError",
    "UnsupportedError", "BusyError", "ReadOnlyError", "ConstraintError", "FullError",
    "NotFoundError", "CantOpenError", "TooBigError", "MismatchError", "TransactionTimeoutError",
    "ConflictError", "strerror", "lib_path",
]
