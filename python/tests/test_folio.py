"""Tests of the folio Python binding (python/folio).

Run by the python_binding CTest (run_binding_test.sh): from a fresh venv the
package was installed into, against the libfolio.so in FOLIO_LIB. Every
database file the binding writes is opened afterwards with Python's sqlite3
module: PRAGMA integrity_check must answer 'ok' and the values must equal
what was written (tearDown checks the integrity of every such file again).
"""

import gc
import math
import os
import pathlib
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import folio


def sqlite_query(path, sql, params=()):
    """Rows of `sql` read by libsqlite3, after checking the file's integrity."""
    con = sqlite3.connect(path)
    try:
        check = con.execute("PRAGMA integrity_check").fetchall()
        if check != [("ok",)]:
            raise AssertionError("%s: integrity_check: %r" % (path, check))
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def sqlite_exec(path, *statements):
    """Write a file with libsqlite3 (for the binding to read)."""
    con = sqlite3.connect(path)
    try:
        for sql in statements:
            if isinstance(sql, tuple):
                con.executemany(sql[0], sql[1])
            else:
                con.execute(sql)
        con.commit()
    finally:
        con.close()


class FolioTestCase(unittest.TestCase):
    """A temporary directory per test; the files made with path() are checked
    by libsqlite3 when the test ends."""

    def setUp(self):
        base = os.environ.get("FOLIO_TMP")
        if base:
            os.makedirs(base, exist_ok=True)
        self.dir = tempfile.mkdtemp(prefix="folio-py-", dir=base)
        self.written = []

    def tearDown(self):
        gc.collect()
        for path in self.written:
            if os.path.exists(path):
                sqlite_query(path, "SELECT 1")
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name="test.db"):
        """A database file the test writes: checked by libsqlite3 at the end."""
        p = os.path.join(self.dir, name)
        self.written.append(p)
        return p

    def scratch(self, name):
        """A file the test damages or never writes: not checked at the end."""
        return os.path.join(self.dir, name)

    def make(self, ddl, name="test.db", **options):
        """A new database with the DDL statements run in one transaction."""
        path = self.path(name)
        db = folio.open(path, **options)
        with db.transaction(write=True) as tx:
            for stmt in ddl:
                tx.execute(stmt)
        return path, db


# ---------------------------------------------------------------------------
# The library, the module and the exceptions


class TestModule(unittest.TestCase):
    def test_loads_the_library_of_FOLIO_LIB(self):
        self.assertEqual(folio.lib_path, os.environ["FOLIO_LIB"])

    def test_runs_from_the_installed_package(self):
        venv = os.environ.get("FOLIO_PYTHON_EXPECT_INSTALLED")
        if not venv:
            self.skipTest("not run by run_binding_test.sh")
        self.assertTrue(os.path.realpath(folio.__file__).startswith(os.path.realpath(venv)),
                        folio.__file__)

    def test_a_missing_FOLIO_LIB_is_an_ImportError(self):
        env = dict(os.environ, FOLIO_LIB="/nonexistent/libfolio.so")
        r = subprocess.run([sys.executable, "-c", "import folio"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(b"ImportError", r.stderr)
        self.assertIn(b"FOLIO_LIB=/nonexistent/libfolio.so", r.stderr)

    def test_without_FOLIO_LIB_loads_from_the_library_path(self):
        libdir = os.path.dirname(os.path.realpath(os.environ["FOLIO_LIB"]))
        if not os.path.exists(os.path.join(libdir, "libfolio.so.0")):
            self.skipTest("no libfolio.so.0 beside FOLIO_LIB")
        env = dict(os.environ, LD_LIBRARY_PATH=libdir)
        del env["FOLIO_LIB"]
        r = subprocess.run([sys.executable, "-c", "import folio; print(folio.lib_path)"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), b"libfolio.so.0")

    def test_every_code_has_its_exception(self):
        codes = {
            -1: folio.Error, -2: folio.MisuseError, -3: folio.NoMemError, -4: folio.IOErr,
            -5: folio.CorruptError, -6: folio.NotADatabaseError, -7: folio.UnsupportedError,
            -8: folio.BusyError, -9: folio.ReadOnlyError, -10: folio.ConstraintError,
            -11: folio.FullError, -12: folio.NotFoundError, -13: folio.CantOpenError,
            -14: folio.TooBigError, -15: folio.MismatchError,
        }
        from folio.errors import error_for
        for code, cls in codes.items():
            e = error_for(code, "message %d" % code)
            self.assertIs(type(e), cls)
            self.assertIsInstance(e, folio.Error)
            self.assertEqual(e.code, code)
            self.assertEqual(cls.code, code)
            self.assertEqual(str(e), "message %d" % code)
            self.assertEqual(e.message, "message %d" % code)
        self.assertIs(type(error_for(-99, "x")), folio.Error)
        self.assertEqual(error_for(-99, "x").code, -99)

    def test_strerror(self):
        self.assertEqual(folio.strerror(0), "not an error")
        self.assertTrue(folio.strerror(-8))
        self.assertNotEqual(folio.strerror(-8), folio.strerror(-10))


# ---------------------------------------------------------------------------
# Databases and options


class TestDatabase(FolioTestCase):
    def test_open_creates_and_close_leaves_one_file(self):
        path = self.path()
        db = folio.open(path)
        self.assertFalse(db.closed)
        self.assertIn("test.db", repr(db))
        self.assertEqual(db.path, path)
        with db.transaction(write=True) as tx:
            tx.execute("CREATE TABLE t(a)")
            tx.table("t").insert([1])
        db.close()
        self.assertTrue(db.closed)
        self.assertIn("closed", repr(db))
        db.close()  # a second close does nothing
        self.assertFalse(os.path.exists(path + "-wal"))
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [(1,)])

    def test_open_takes_a_path_like(self):
        import pathlib
        path = self.path()
        with folio.open(pathlib.Path(path)) as db:
            self.assertEqual(db.path, path)
        self.assertTrue(os.path.exists(path))

    def test_context_manager_closes(self):
        path = self.path()
        with folio.open(path) as db:
            with db.transaction(write=True) as tx:
                tx.execute("CREATE TABLE t(a)")
        self.assertTrue(db.closed)
        with self.assertRaises(folio.MisuseError) as cm:
            db.transaction()
        self.assertEqual(cm.exception.code, -2)
        with self.assertRaises(folio.MisuseError):
            db.checkpoint()

    def test_close_with_an_open_transaction_is_misuse(self):
        db = folio.open(self.path())
        tx = db.transaction()
        with self.assertRaises(folio.MisuseError):
            db.close()
        tx.commit()
        db.close()

    def test_close_while_another_thread_waits_in_a_call_is_misuse(self):
        path, db = self.make(["CREATE TABLE t(a)"], busy_timeout_ms=10000)
        other = folio.open(path)
        holder = other.transaction(write=True)  # the writer's lock, held by another handle
        began, result = threading.Event(), []

        def wait_for_the_lock():
            began.set()
            with db.transaction(write=True) as tx:
                tx.table("t").insert([2])
            result.append("committed")

        th = threading.Thread(target=wait_for_the_lock)
        th.start()
        began.wait(10)
        time.sleep(0.2)  # inside folio_begin, waiting
        with self.assertRaises(folio.MisuseError):
            db.close()
        holder.table("t").insert([1])
        holder.commit()
        th.join(20)
        self.assertEqual(result, ["committed"])
        other.close()
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [(1,), (2,)])

    def test_a_dropped_database_is_closed(self):
        path = self.path()
        db = folio.open(path)
        with db.transaction(write=True) as tx:
            tx.execute("CREATE TABLE t(a)")
        del db, tx
        gc.collect()
        self.assertFalse(os.path.exists(path + "-wal"))
        self.assertEqual(sqlite_query(path, "SELECT count(*) FROM t"), [(0,)])

    def test_every_option(self):
        path = self.path()
        with folio.open(path, readonly=False, create=True, inline_checkpoint=True, sync="full",
                        cache_bytes=1 << 20, page_size=8192, wal_autocheckpoint=10,
                        busy_timeout_ms=50, mmap_bytes=1 << 24) as db:
            with db.transaction(write=True) as tx:
                tx.execute("CREATE TABLE t(a INTEGER PRIMARY KEY, b)")
                t = tx.table("t")
                for i in range(2000):
                    t.insert([None, "row %d" % i * 3])
            with db.transaction() as tx:
                self.assertEqual(len(list(tx.table("t").rows())), 2000)
                self.assertEqual(tx.info()["page_size"], 8192)
        self.assertEqual(sqlite_query(path, "PRAGMA page_size"), [(8192,)])
        self.assertEqual(sqlite_query(path, "SELECT count(*), max(a) FROM t"), [(2000, 2000)])
        for sync in ("off", "normal", "full", "OFF"):
            with folio.open(path, sync=sync) as db:
                with db.transaction(write=True) as tx:
                    tx.table("t").insert([None, sync])
        self.assertEqual(sqlite_query(path, "SELECT b FROM t WHERE a > 2000 ORDER BY a"),
                         [("off",), ("normal",), ("full",), ("OFF",)])

    def test_wal_autocheckpoint_zero_leaves_frames_to_checkpoint(self):
        path = self.path()
        db = folio.open(path, wal_autocheckpoint=0)
        with db.transaction(write=True) as tx:
            tx.execute("CREATE TABLE t(a)")
            t = tx.table("t")
            for i in range(500):
                t.insert([i])
        with db.transaction() as tx:
            frames = tx.info()["wal_frames"]
        self.assertGreater(frames, 0)
        self.assertGreater(os.path.getsize(path + "-wal"), 0)
        log, done = db.checkpoint("truncate")
        self.assertEqual((log, done), (frames, frames))
        self.assertEqual(os.path.getsize(path + "-wal"), 0)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT count(*), sum(a) FROM t"),
                         [(500, sum(range(500)))])

    def test_checkpoint_modes(self):
        path, db = self.make(["CREATE TABLE t(a)"], wal_autocheckpoint=0)
        for mode in ("passive", "full", "restart", "truncate", "PASSIVE"):
            with db.transaction(write=True) as tx:
                tx.table("t").insert([mode])
            log, done = db.checkpoint(mode)
            self.assertGreaterEqual(log, 1)
            self.assertEqual(done, log)
        db.checkpoint("truncate")
        self.assertEqual(db.checkpoint(), (0, 0))  # the WAL started over
        for bad in ("nope", 1, None):
            with self.assertRaises(ValueError):
                db.checkpoint(bad)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT count(*) FROM t"), [(5,)])

    def test_checkpoint_held_back_by_a_reader_is_busy(self):
        path, db = self.make(["CREATE TABLE t(a)"], wal_autocheckpoint=0)
        reader = db.transaction()
        with db.transaction(write=True) as tx:
            tx.table("t").insert([1])
        log, done = db.checkpoint("passive")
        self.assertLess(done, log)
        with self.assertRaises(folio.BusyError) as cm:
            db.checkpoint("full")
        self.assertEqual(cm.exception.code, -8)
        reader.commit()
        log, done = db.checkpoint("full")
        self.assertEqual(done, log)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [(1,)])

    def test_backup(self):
        path, db = self.make(["CREATE TABLE t(a INTEGER PRIMARY KEY, b)",
                              "CREATE INDEX t_b ON t(b)"], wal_autocheckpoint=0)
        with db.transaction(write=True) as tx:
            t = tx.table("t")
            for i in range(2000):
                t.insert([i, "row %d" % (i * 7 % 2000)])
        with db.transaction() as rt:
            self.assertGreater(rt.info()["wal_frames"], 0)
        dest = self.path("copy.db")
        version = db.backup(dest)
        self.assertIsInstance(version, int)
        self.assertFalse(os.path.exists(dest + "-wal"))
        self.assertFalse(os.path.exists(dest + "-backup"))
        want = [(i, "row %d" % (i * 7 % 2000)) for i in range(2000)]
        self.assertEqual(sqlite_query(dest, "SELECT a, b FROM t ORDER BY a"), want)
        # DEST exists: an error, DEST untouched; a path-like works too.
        with self.assertRaises(folio.Error) as cm:
            db.backup(dest)
        self.assertEqual(cm.exception.code, -1)
        self.assertIn("output file already exists", str(cm.exception))
        second = self.path("second.db")
        db.backup(pathlib.Path(second))
        with self.assertRaises(ValueError):
            db.backup("")
        with self.assertRaises(folio.CantOpenError):
            db.backup(os.path.join(self.dir, "missing", "copy.db"))
        db.close()
        self.assertEqual(sqlite_query(second, "SELECT count(*) FROM t"), [(2000,)])

    def test_unknown_or_bad_options(self):
        path = self.scratch("x.db")
        with self.assertRaises(TypeError):
            folio.open(path, cache_size=5)
        with self.assertRaises(TypeError):
            folio.open(path, readonly=1)
        with self.assertRaises(TypeError):
            folio.open(path, page_size="4096")
        with self.assertRaises(TypeError):
            folio.open(path, sync=1)
        with self.assertRaises(ValueError):
            folio.open(path, sync="sometimes")
        with self.assertRaises(ValueError):
            folio.open(path, cache_bytes=-1)
        with self.assertRaises(ValueError):
            folio.open(path, busy_timeout_ms=1 << 40)
        with self.assertRaises(folio.MisuseError) as cm:
            folio.open(path, page_size=1000)
        self.assertIn("page_size", str(cm.exception))
        self.assertFalse(os.path.exists(path))

    def test_log_compression_option(self):
        # The records a handle writes are in the compression it asks for,
        # whatever the log was enabled with (each record's header names its
        # codec: byte 5, 1 zstd, 2 lz4); the commit log is turned on here
        # through the C call, which the binding does not wrap.
        import ctypes
        from folio import _native
        path = self.path("log.db")
        db = folio.open(path)
        with db.transaction(write=True) as tx:
            tx.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)")
        rc = _native.lib.folio_log_enable(ctypes.c_void_p(db._h), 0)  # FOLIO_LOG_ZSTD
        self.assertEqual(rc, 0)
        db.close()

        def codecs():
            found = []
            logdir = path + "-log"
            for name in sorted(os.listdir(logdir)):
                if not name.endswith(".seg"):
                    continue
                with open(os.path.join(logdir, name), "rb") as f:
                    data = f.read()
                off = 64
                while off + 48 <= len(data):
                    stored = int.from_bytes(data[off:off + 4], "little")
                    if data[off + 4] == 1:
                        found.append(data[off + 5])
                    off += 48 + stored
            return found

        for comp, want in ((None, 1), ("lz4", 2), ("zstd", 1), ("LZ4", 2)):
            db = folio.open(path, log_compression=comp)
            with db.transaction(write=True) as tx:
                t = tx.table("t")
                t.insert([None, os.urandom(2000)])
            db.close()
            self.assertEqual(codecs()[-1], want, comp)
        with self.assertRaises(ValueError):
            folio.open(path, log_compression="gzip")
        with self.assertRaises(ValueError):
            folio.open(path, log_compression=1)
        self.assertEqual(sqlite_query(path, "SELECT count(*) FROM t"), [(4,)])

    def test_open_errors(self):
        with self.assertRaises(folio.CantOpenError) as cm:
            folio.open(self.scratch("missing.db"), create=False)
        self.assertEqual(cm.exception.code, -13)
        self.assertIn("missing.db", str(cm.exception))
        with self.assertRaises(folio.CantOpenError):
            folio.open(os.path.join(self.dir, "no", "such", "dir.db"))
        junk = self.scratch("junk.db")
        with open(junk, "wb") as f:
            f.write(b"this is not a database" * 200)
        with self.assertRaises(folio.NotADatabaseError) as cm:
            folio.open(junk)
        self.assertEqual(cm.exception.code, -6)

    def test_readonly(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        db.close()
        with folio.open(path, readonly=True) as ro:
            with self.assertRaises(folio.ReadOnlyError) as cm:
                ro.transaction(write=True)
            self.assertEqual(cm.exception.code, -9)
            with ro.transaction() as tx:
                self.assertEqual(list(tx.table("t").rows()), [])
        with folio.open(path) as db:
            with db.transaction() as tx:
                with self.assertRaises(folio.ReadOnlyError):
                    tx.table("t").insert([1])
        self.assertEqual(sqlite_query(path, "SELECT count(*) FROM t"), [(0,)])


# ---------------------------------------------------------------------------
# Transactions


class TestTransaction(FolioTestCase):
    def test_commit_on_success_and_rollback_on_exception(self):
        path, db = self.make(["CREATE TABLE t(a INTEGER PRIMARY KEY, b)"])
        with db.transaction(write=True) as tx:
            self.assertIs(tx.database, db)
            self.assertTrue(tx.write)
            self.assertTrue(tx.active)
            self.assertIn("write active", repr(tx))
            tx.table("t").insert([1, "kept"])
        self.assertFalse(tx.active)
        self.assertIn("finished", repr(tx))
        with self.assertRaises(KeyError):
            with db.transaction(write=True) as tx:
                tx.table("t").insert([2, "rolled back"])
                raise KeyError("boom")
        self.assertFalse(tx.active)
        with db.transaction() as tx:
            self.assertFalse(tx.write)
            self.assertEqual(list(tx.table("t").rows()), [(1, "kept")])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM t"), [(1, "kept")])

    def test_concurrent_transactions_and_conflicts(self):
        path, db = self.make(["CREATE TABLE t(a INTEGER PRIMARY KEY, b)"])
        with db.transaction(write=True) as tx:
            tx.table("t").insert([1, 10])
            tx.table("t").insert([2, 20])
        t1 = db.transaction(concurrent=True)
        t2 = db.transaction(concurrent=True)
        self.assertTrue(t1.write)
        t1.table("t").update(1, [1, t1.table("t").get(1)[1] + 1])
        t2.table("t").update(1, [1, t2.table("t").get(1)[1] + 5])
        t2.table("t").update(2, [2, 0])
        t1.commit()
        with self.assertRaises(folio.ConflictError) as cm:
            t2.commit()
        self.assertEqual(cm.exception.code, -17)
        self.assertIn("table t, rowid 1", str(cm.exception))
        self.assertFalse(t2.active)
        # Disjoint work of two concurrent transactions: both commit.
        t1 = db.transaction(concurrent=True)
        t2 = db.transaction(concurrent=True)
        t1.table("t").insert([None, "x"])
        t2.table("t").insert([None, "y"])
        t2.table("t").update(2, [2, 7])
        t1.commit()
        t2.commit()
        # Serializable: a row read and changed by another commit is a conflict.
        t1 = db.transaction(serializable=True)
        self.assertEqual(t1.table("t").get(3)[1], "x")
        t1.table("t").insert([None, "z"])
        with db.transaction(write=True) as w:
            w.table("t").update(3, [3, "x2"])
        with self.assertRaises(folio.ConflictError):
            t1.commit()
        # Read committed: a reader sees each commit.
        r = db.transaction(read_committed=True)
        n1 = len(list(r.table("t").rows()))
        with db.transaction(write=True) as w:
            w.table("t").insert([None, "w"])
        self.assertEqual(len(list(r.table("t").rows())), n1 + 1)
        r.commit()
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT a, b FROM t ORDER BY a"),
                         [(1, 11), (2, 7), (3, "x2"), (4, "y"), (6, "w")])

    def test_explicit_commit_and_rollback(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        tx = db.transaction(write=True)
        tx.table("t").insert(["one"])
        tx.commit()
        tx = db.transaction(write=True)
        tx.table("t").insert(["two"])
        tx.rollback()
        with db.transaction(write=True) as tx:
            tx.table("t").insert(["three"])
            tx.commit()  # ending it inside the block is allowed
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [("one",), ("three",)])

    def test_a_finished_transaction_refuses_everything(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        tx = db.transaction(write=True)
        t = tx.table("t")
        tx.commit()
        for call in (lambda: tx.table("t"), lambda: tx.execute("CREATE TABLE u(a)"),
                     tx.commit, tx.rollback, tx.schema, tx.info, tx.stats, tx.check,
                     lambda: t.insert([1]), lambda: t.get(1), lambda: t.rows(),
                     lambda: t.columns, lambda: t.cursor()):
            with self.assertRaises(folio.MisuseError):
                call()
        db.close()

    def test_a_dropped_transaction_rolls_back(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        tx = db.transaction(write=True)
        tx.table("t").insert([1])
        del tx
        gc.collect()
        with db.transaction(write=True) as tx:  # the writer's lock was let go
            tx.table("t").insert([2])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [(2,)])

    def test_a_read_transaction_is_a_snapshot(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        reader = db.transaction()
        with db.transaction(write=True) as tx:
            tx.table("t").insert([1])
        self.assertEqual(list(reader.table("t").rows()), [])
        reader.commit()
        with db.transaction() as tx:
            self.assertEqual(list(tx.table("t").rows()), [(1,)])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [(1,)])

    def test_a_second_writer_is_busy(self):
        path, db = self.make(["CREATE TABLE t(a)"], busy_timeout_ms=200)
        with db.transaction(write=True) as tx:
            start = time.monotonic()
            with self.assertRaises(folio.BusyError) as cm:
                db.transaction(write=True)
            self.assertGreaterEqual(time.monotonic() - start, 0.15)  # busy_timeout_ms
            self.assertEqual(cm.exception.code, -8)
            self.assertTrue(str(cm.exception))
            tx.table("t").insert([1])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [(1,)])

    def test_busy_while_sqlite3_writes(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        db.close()
        con = sqlite3.connect(path, isolation_level=None)
        con.execute("BEGIN EXCLUSIVE")
        con.execute("INSERT INTO t VALUES(1)")
        try:
            with folio.open(path) as db:
                with self.assertRaises(folio.BusyError):
                    db.transaction(write=True)
        finally:
            con.execute("COMMIT")
            con.close()
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [(1,)])

    def test_execute(self):
        path, db = self.make([])
        with db.transaction(write=True) as tx:
            tx.execute("CREATE TABLE a(x INTEGER PRIMARY KEY, y TEXT)")
            tx.execute("CREATE TABLE b(x)")
            tx.execute("CREATE INDEX a_y ON a(y)")
            tx.execute("DROP TABLE b")
            tx.execute("CREATE TABLE c(x)")
            tx.execute("CREATE INDEX c_x ON c(x)")
            tx.execute("DROP INDEX c_x")
            with self.assertRaises(folio.Error):
                tx.execute("CREATE TABLE a(z)")  # exists
            with self.assertRaises(folio.MisuseError):
                tx.execute("CREATE TABL oops")
            with self.assertRaises(folio.Error):
                tx.execute("SELECT 1")
            with self.assertRaises(TypeError):
                tx.execute(b"CREATE TABLE d(x)")
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT type, name FROM sqlite_schema ORDER BY name"),
                         [("table", "a"), ("index", "a_y"), ("table", "c")])

    def test_ddl_closes_cursors_and_tables_find_their_table_again(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        with db.transaction(write=True) as tx:
            t = tx.table("t")
            t.insert([1])
            c = t.cursor()
            it = t.rows()
            tx.execute("DROP TABLE t")
            tx.execute("CREATE TABLE v(x, y)")  # may take the dropped table's pages
            tx.table("v").insert(["other", "table"])
            with self.assertRaises(folio.NotFoundError):
                list(t.rows())
            with self.assertRaises(folio.NotFoundError):
                t.insert([2])
            with self.assertRaises(folio.MisuseError):
                c.first()
            with self.assertRaises(folio.MisuseError):
                next(it)
            tx.execute("CREATE TABLE t(p, q, r)")
            self.assertEqual(t.columns, ("p", "q", "r"))
            self.assertEqual(t.insert([1, 2, 3]), 1)
            self.assertEqual(list(t.rows()), [(1, 2, 3)])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM t"), [(1, 2, 3)])
        self.assertEqual(sqlite_query(path, "SELECT * FROM v"), [("other", "table")])

    def test_an_exception_leaving_a_transaction_open_is_not_hidden(self):
        path = self.path()
        with self.assertRaises(KeyError):
            with folio.open(path) as db:
                tx = db.transaction(write=True)
                tx.execute("CREATE TABLE t(a)")
                raise KeyError("the real error")
        self.assertFalse(db.closed)  # its transaction is still open
        tx.rollback()
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT count(*) FROM sqlite_schema"), [(0,)])

    def test_schema_info_stats_check(self):
        path, db = self.make(["CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT UNIQUE)",
                              "CREATE INDEX t_b ON t(b)"])
        with db.transaction(write=True) as tx:
            t = tx.table("t")
            for i in range(300):
                t.insert([None, "value %05d" % i])
        with db.transaction() as tx:
            schema = tx.schema()
            self.assertEqual([(e.type, e.name, e.tbl_name) for e in schema],
                             [("table", "t", "t"), ("index", "sqlite_autoindex_t_1", "t"),
                              ("index", "t_b", "t")])
            self.assertIsNone(schema[1].sql)
            self.assertEqual(schema[2].sql, "CREATE INDEX t_b ON t(b)")
            self.assertGreater(schema[0].rootpage, 1)
            info = tx.info()
            self.assertEqual(info["page_size"], 4096)
            self.assertEqual(info["text_encoding"], 1)
            self.assertEqual(info["write_version"], 2)
            self.assertGreaterEqual(info["page_count"], 4)
            self.assertIsInstance(info["checkpoint_note"], str)
            stats = {s.name: s for s in tx.stats()}
            self.assertEqual(set(stats), {"sqlite_schema", "t", "sqlite_autoindex_t_1", "t_b"})
            self.assertEqual(stats["t"].entries, 300)
            self.assertEqual(stats["t_b"].entries, 300)
            self.assertTrue(stats["t_b"].is_index)
            self.assertEqual(stats["t_b"].tbl_name, "t")
            self.assertEqual(tx.check(), [])
            self.assertEqual(tx.check(max_errors=5), [])
        db.close()
        rows = sqlite_query(path, "SELECT type, name, rootpage FROM sqlite_schema")
        self.assertEqual(sorted((e.type, e.name, e.rootpage) for e in schema), sorted(rows))
        self.assertEqual(sqlite_query(path, "PRAGMA page_count"), [(info["page_count"],)])

    def test_a_damaged_file_is_CorruptError(self):
        path = self.scratch("damaged.db")
        sqlite_exec(path, "CREATE TABLE t(a INTEGER PRIMARY KEY, b)",
                    ("INSERT INTO t VALUES(?, ?)", [(i, "x" * 200) for i in range(2000)]))
        size = os.path.getsize(path)
        self.assertGreater(size, 20 * 4096)
        with open(path, "r+b") as f:  # scribble over a page in the middle of the table
            f.seek(10 * 4096)
            f.write(b"\xa5" * 4096)
        with folio.open(path, readonly=True) as db:
            with db.transaction() as tx:
                problems = tx.check()
                self.assertTrue(problems)
                self.assertTrue(all(isinstance(p, str) for p in problems))
                self.assertLessEqual(len(tx.check(max_errors=1)), 1)
                with self.assertRaises(folio.CorruptError) as cm:
                    list(tx.table("t").rows())
                self.assertEqual(cm.exception.code, -5)
                self.assertIn("page", str(cm.exception))

    def test_a_transaction_belongs_to_one_thread_at_a_time(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        with db.transaction(write=True) as tx:
            held, release = threading.Event(), threading.Event()

            def hold():  # stands for a call of another thread, still running
                with tx._lock:
                    held.set()
                    release.wait(10)

            th = threading.Thread(target=hold)
            th.start()
            held.wait(10)
            with self.assertRaises(folio.MisuseError) as cm:
                tx.table("t")
            self.assertIn("thread", str(cm.exception))
            release.set()
            th.join()
            tx.table("t").insert([1])  # handed over: fine again

            result = []
            th = threading.Thread(target=lambda: result.append(tx.table("t").insert([2])))
            th.start()
            th.join()
            self.assertEqual(len(result), 1)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT a FROM t"), [(1,), (2,)])

    def test_threads_share_a_database(self):
        path, db = self.make(["CREATE TABLE t(a INTEGER PRIMARY KEY, b)"], busy_timeout_ms=10000)
        errors, counts = [], []

        def writer(k):
            try:
                for i in range(20):
                    with db.transaction(write=True) as tx:
                        tx.table("t").insert([None, k * 1000 + i])
            except Exception as e:  # reported below
                errors.append(e)

        def reader():
            try:
                for _ in range(20):
                    with db.transaction() as tx:
                        t = tx.table("t")
                        first = len(list(t.rows()))
                        time.sleep(0.001)
                        self.assertEqual(len(list(t.rows())), first)  # a snapshot
                        counts.append(first)
            except Exception as e:
                errors.append(e)

        threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
        threads += [threading.Thread(target=reader) for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(errors, [])
        self.assertTrue(counts)
        db.close()
        rows = sqlite_query(path, "SELECT b FROM t ORDER BY b")
        self.assertEqual([r[0] for r in rows], sorted(k * 1000 + i for k in range(3)
                                                      for i in range(20)))


# ---------------------------------------------------------------------------
# Values


class TestValues(FolioTestCase):
    VALUES = [
        None, 0, 1, -1, 2 ** 63 - 1, -2 ** 63, 1.5, -0.0, 1e308, -2.5e-300,
        float("inf"), float("-inf"), "", "plain", "caf\u00e9 \u65e5\u672c \U0001f600",
        "nul\x00inside", "x" * 100000, b"", b"\x00\x01\xff", bytes(range(256)) * 400,
    ]

    def test_round_trip_through_folio_and_sqlite3(self):
        path, db = self.make(["CREATE TABLE v(id INTEGER PRIMARY KEY, x)"])
        with db.transaction(write=True) as tx:
            t = tx.table("v")
            rowids = [t.insert([None, v]) for v in self.VALUES]
            t.insert([None, True])
            t.insert([None, bytearray(b"ba")])
            t.insert([None, memoryview(b"mv")])
        self.assertEqual(rowids, list(range(1, len(self.VALUES) + 1)))
        with db.transaction() as tx:
            t = tx.table("v")
            got = [t.get(r)[1] for r in rowids]
            for want, have in zip(self.VALUES, got):
                self.assertEqual(type(want), type(have))
                self.assertEqual(want, have)
            negative_zero = [i for i, v in enumerate(self.VALUES) if repr(v) == "-0.0"][0]
            self.assertEqual(math.copysign(1, got[negative_zero]), -1)
            n = len(self.VALUES)
            self.assertEqual([t.get(r)[1] for r in (n + 1, n + 2, n + 3)], [1, b"ba", b"mv"])
        db.close()
        rows = sqlite_query(path, "SELECT x, typeof(x) FROM v ORDER BY id")
        types = {type(None): "null", int: "integer", float: "real", str: "text", bytes: "blob"}
        for want, (have, typ) in zip(self.VALUES, rows):
            self.assertEqual(typ, types[type(want)])
            self.assertEqual(want, have)
        self.assertEqual(rows[-3:], [(1, "integer"), (b"ba", "blob"), (b"mv", "blob")])

    def test_values_that_cannot_be_stored(self):
        path, db = self.make(["CREATE TABLE v(x)"])
        with db.transaction(write=True) as tx:
            t = tx.table("v")
            with self.assertRaises(OverflowError):
                t.insert([2 ** 63])
            with self.assertRaises(OverflowError):
                t.insert([-2 ** 63 - 1])
            for bad in ([1], {"a": 1}, object(), 1j):
                with self.assertRaises(TypeError):
                    t.insert([bad])
            with self.assertRaises(UnicodeEncodeError):
                t.insert(["\ud800"])  # a surrogate that surrogateescape did not make
            for bad in ("abc", b"abc", {"x": 1}, 5):
                with self.assertRaises(TypeError):
                    t.insert(bad)  # values must be a sequence
            t.insert((7,))  # a tuple, or any iterable, will do
            t.insert(iter([8]))
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT x FROM v"), [(7,), (8,)])

    def test_text_that_is_not_utf8_round_trips(self):
        path = self.path()
        sqlite_exec(path, "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT)",
                    "INSERT INTO t VALUES(1, CAST(x'ff41c3' AS TEXT))")
        with folio.open(path) as db:
            with db.transaction(write=True) as tx:
                t = tx.table("t")
                s = t.get(1)[1]
                self.assertEqual(s, "\udcffA\udcc3")  # surrogateescape
                self.assertEqual(s.encode("utf-8", "surrogateescape"), b"\xff\x41\xc3")
                t.insert([2, s])
        self.assertEqual(sqlite_query(path, "SELECT id, hex(s), typeof(s) FROM t"),
                         [(1, "FF41C3", "text"), (2, "FF41C3", "text")])

    def test_borrowed_values_are_copied_before_the_cursor_moves(self):
        path, db = self.make(["CREATE TABLE b(id INTEGER PRIMARY KEY, small, big)"])
        want = [(i, "s%d" % i, bytes([i % 251]) * (9000 + i)) for i in range(1, 60)]
        with db.transaction(write=True) as tx:
            t = tx.table("b")
            for row in want:
                t.insert(list(row))
        with db.transaction() as tx:
            with tx.table("b").cursor() as c:
                got, ok = [], c.first()
                while ok:
                    got.append((c.column(0), c.column(1), c.column(2)))
                    ok = c.next()
            self.assertEqual(got, want)  # every value still whole after the moves
            self.assertEqual(list(tx.table("b").rows()), want)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM b ORDER BY id"), want)

    def test_affinity_and_defaults(self):
        path, db = self.make(["CREATE TABLE a(i INTEGER, r REAL, t TEXT, n NUMERIC, "
                              "d DEFAULT 'dflt', e INT DEFAULT 42)"])
        with db.transaction(write=True) as tx:
            t = tx.table("a")
            t.insert(["12", 3, 4, "5.0"])  # d and e take their defaults
            self.assertEqual(t.get(1), (12, 3.0, "4", 5, "dflt", 42))
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM a"), [(12, 3.0, "4", 5, "dflt", 42)])


# ---------------------------------------------------------------------------
# Tables with rowids


class TestRowidTable(FolioTestCase):
    DDL = ["CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INT, "
           "email TEXT UNIQUE)"]

    def test_table_shape(self):
        path, db = self.make(self.DDL + ["CREATE TABLE plain(a, b)"])
        with db.transaction() as tx:
            p = tx.table("P")  # names are case-insensitive
            self.assertIs(p.transaction, tx)
            self.assertEqual(p.name, "P")
            self.assertEqual(p.columns, ("id", "name", "age", "email"))
            self.assertFalse(p.without_rowid)
            self.assertIn("P", repr(p))
            self.assertEqual(tx.table("plain").columns, ("a", "b"))
            with self.assertRaises(folio.NotFoundError) as cm:
                tx.table("nope")
            self.assertEqual(cm.exception.code, -12)
            self.assertIn("nope", str(cm.exception))
            with self.assertRaises(TypeError):
                tx.table(3)
        db.close()

    def test_insert_update_upsert_patch_delete(self):
        path, db = self.make(self.DDL)
        with db.transaction(write=True) as tx:
            p = tx.table("p")
            self.assertEqual(p.insert([None, "ann", 30, "ann@x"]), 1)
            self.assertEqual(p.insert([10, "bob", 40, None]), 10)
            self.assertEqual(p.insert([None, "cat"]), 11)  # age and email default to NULL
            self.assertTrue(p.update(10, [10, "bob", 41, "bob@x"]))
            self.assertFalse(p.update(99, [99, "nobody"]))
            self.assertEqual(p.upsert(11, [11, "cat", 5, None]), 11)  # replaces
            self.assertEqual(p.upsert(20, [None, "dan", 50, None]), 20)  # inserts
            self.assertTrue(p.patch(1, {"age": 31, "EMAIL": "ann@y"}))
            self.assertTrue(p.patch(20, {2: 51}))
            self.assertTrue(p.patch(20, {}))
            self.assertFalse(p.patch(99, {"age": 1}))
            self.assertTrue(p.delete(11))
            self.assertFalse(p.delete(11))
            self.assertEqual(p.get(1), (1, "ann", 31, "ann@y"))
            self.assertIsNone(p.get(11))
        want = [(1, "ann", 31, "ann@y"), (10, "bob", 41, "bob@x"), (20, "dan", 51, None)]
        with db.transaction() as tx:
            self.assertEqual(list(tx.table("p").rows()), want)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM p ORDER BY id"), want)

    def test_constraints(self):
        path, db = self.make(self.DDL + ["CREATE TABLE s(a INT, b TEXT) STRICT",
                                         "CREATE TABLE c(a, CHECK(a > 0))"])
        with db.transaction(write=True) as tx:
            p = tx.table("p")
            p.insert([1, "ann", 30, "ann@x"])
            for values in ([1, "dup", 1, None], [2, None, 1, None], [3, "e", 1, "ann@x"]):
                with self.assertRaises(folio.ConstraintError) as cm:
                    p.insert(values)
                self.assertEqual(cm.exception.code, -10)
                self.assertIn("constraint failed", str(cm.exception))
            with self.assertRaises(folio.ConstraintError):
                p.update(1, [1, None])
            with self.assertRaises(folio.ConstraintError):
                p.patch(1, {"name": None})
            with self.assertRaises(folio.MismatchError) as cm:
                p.insert(["one", "x"])  # INTEGER PRIMARY KEY
            self.assertEqual(cm.exception.code, -15)
            with self.assertRaises(folio.ConstraintError):
                tx.table("s").insert(["text", "b"])
            tx.table("c").insert([1])
            with self.assertRaises(folio.ConstraintError) as cm:
                tx.table("c").insert([0])
            self.assertEqual(str(cm.exception), "CHECK constraint failed: a > 0")
            with self.assertRaises(folio.MisuseError):
                p.insert([1, 2, 3, 4, 5])  # more values than columns
            with self.assertRaises(folio.MisuseError):
                p.upsert(5, [6, "other id"])  # the INTEGER PRIMARY KEY differs from the rowid
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM p"), [(1, "ann", 30, "ann@x")])
        self.assertEqual(sqlite_query(path, "SELECT * FROM c"), [(1,)])
        # Triggers run; one with a construct folio does not run refuses the writes that
        # would fire it, naming the trigger.
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE log(x)")
        con.execute("CREATE TRIGGER tr AFTER INSERT ON c BEGIN INSERT INTO log VALUES(new.a * 10);"
                    " SELECT RAISE(ABORT, 'too big') WHERE new.a > 100; END")
        con.execute("CREATE TRIGGER tj AFTER DELETE ON c BEGIN"
                    " INSERT INTO log SELECT p.id FROM p, c; END")
        con.commit()
        con.close()
        db = folio.open(path)
        with db.transaction(write=True) as tx:
            tx.table("c").insert([2])
            with self.assertRaises(folio.ConstraintError) as cm:
                tx.table("c").insert([200])
            self.assertEqual(str(cm.exception), "too big")
            with self.assertRaises(folio.UnsupportedError) as cm:
                tx.table("c").delete(1)
            self.assertIn("trigger tj", str(cm.exception))
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT x FROM log"), [(20,)])

    def test_a_failed_call_leaves_the_transaction_as_it_was(self):
        path, db = self.make(self.DDL)
        with db.transaction(write=True) as tx:
            p = tx.table("p")
            p.insert([1, "ann", 1, "a@x"])
            with self.assertRaises(folio.ConstraintError):
                p.insert([2, "bob", 2, "a@x"])
            p.insert([3, "cat", 3, "c@x"])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT id FROM p ORDER BY id"), [(1,), (3,)])

    def test_patch_and_rowid_arguments(self):
        path, db = self.make(self.DDL)
        with db.transaction(write=True) as tx:
            p = tx.table("p")
            p.insert([1, "ann"])
            with self.assertRaises(folio.NotFoundError):
                p.patch(1, {"nope": 1})
            with self.assertRaises(folio.NotFoundError):
                p.patch(1, {4: 1})
            with self.assertRaises(folio.NotFoundError):
                p.patch(1, {-1: 1})
            with self.assertRaises(TypeError):
                p.patch(1, [("age", 1)])
            with self.assertRaises(TypeError):
                p.patch(1, {1.5: 1})
            for bad in ("1", 1.0, None, True):
                with self.assertRaises(TypeError):
                    p.get(bad)
                with self.assertRaises(TypeError):
                    p.delete(bad)
            with self.assertRaises(OverflowError):
                p.delete(2 ** 64)
            self.assertEqual(p.get(-2 ** 63), None)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM p"), [(1, "ann", None, None)])

    def test_rows_and_iteration(self):
        path, db = self.make(self.DDL)
        want = [(i, "n%d" % i, i % 7, None) for i in range(1, 501)]
        with db.transaction(write=True) as tx:
            p = tx.table("p")
            self.assertEqual(list(p.rows()), [])
            for row in reversed(want):
                p.insert(list(row))
        with db.transaction() as tx:
            p = tx.table("p")
            self.assertEqual(list(p.rows()), want)
            self.assertEqual(list(p), want)
            self.assertEqual(list(p.rows(reverse=True)), want[::-1])
            it = p.rows()
            self.assertIs(iter(it), it)
            self.assertEqual(next(it), want[0])
            it.close()
            self.assertEqual(list(it), [])
            with p.rows() as it:
                self.assertEqual(next(it), want[0])
            self.assertIsNone(it.cursor._h)  # closed by the with block
            it = p.rows()
            self.assertEqual(len(list(it)), 500)
            self.assertIsNone(it.cursor._h)  # closed at the end of the walk
            it = p.rows()
            next(it)
        with self.assertRaises(folio.MisuseError):
            next(it)  # the transaction ended (and closed the cursor)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM p ORDER BY id"), want)

    def test_writes_while_walking(self):
        path, db = self.make(self.DDL)
        with db.transaction(write=True) as tx:
            p = tx.table("p")
            for i in range(1, 101):
                p.insert([i, "n%d" % i])
            for row in p.rows():  # the cursor finds its place again after each write
                if row[0] % 2:
                    p.delete(row[0])
                else:
                    p.patch(row[0], {"age": row[0] * 2})
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT id, age FROM p ORDER BY id"),
                         [(i, i * 2) for i in range(2, 101, 2)])

    def test_many_rows_equal_sqlite3(self):
        path, db = self.make(["CREATE TABLE big(id INTEGER PRIMARY KEY, a TEXT, b REAL, c BLOB)",
                              "CREATE INDEX big_a ON big(a)"], cache_bytes=1 << 20)
        want = [(i, "k%07d" % ((i * 7919) % 20011), i / 3, os.urandom(i % 50))
                for i in range(1, 20001)]
        with db.transaction(write=True) as tx:
            t = tx.table("big")
            for row in want:
                t.insert(list(row))
        with db.transaction() as tx:
            self.assertEqual(list(tx.table("big").rows()), want)
            self.assertEqual(tx.check(), [])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM big ORDER BY id"), want)
        self.assertEqual(sqlite_query(path, "SELECT id FROM big INDEXED BY big_a ORDER BY a, id"),
                         [(r[0],) for r in sorted(want, key=lambda r: (r[1], r[0]))])

    def test_a_file_written_by_sqlite3(self):
        path = self.path()
        sqlite_exec(path, "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c)",
                    "CREATE INDEX t_b ON t(b DESC)",
                    ("INSERT INTO t VALUES(?, ?, ?)", [(i, "b%03d" % (i % 10), i * 1.5)
                                                      for i in range(1, 101)]))
        with folio.open(path) as db:
            with db.transaction(write=True) as tx:
                t = tx.table("t")
                self.assertEqual(t.get(7), (7, "b007", 10.5))
                self.assertEqual(len(list(t.seek("t_b", "b003", "eq"))), 10)
                t.insert([None, "new", None])
        self.assertEqual(sqlite_query(path, "SELECT * FROM t WHERE a = 101"), [(101, "new", None)])


# ---------------------------------------------------------------------------
# Index seeks and cursors


class TestSeek(FolioTestCase):
    def setUp(self):
        super().setUp()
        self.file, self.db = self.make([
            "CREATE TABLE p(id INTEGER PRIMARY KEY, name TEXT, score INT)",
            "CREATE INDEX p_name ON p(name COLLATE NOCASE)",
            "CREATE INDEX p_name_score ON p(name, score DESC)",
        ])
        names = ["ann", "Bob", "bob", "cat", "BOB", "dan", "ann", "eve"]
        self.rows = [(i + 1, name, (i * 37) % 11) for i, name in enumerate(names * 3)]
        with self.db.transaction(write=True) as tx:
            t = tx.table("p")
            for row in self.rows:
                t.insert(list(row))

    def tearDown(self):
        self.db.close()
        self.assertEqual(sqlite_query(self.file, "SELECT * FROM p ORDER BY id"), self.rows)
        super().tearDown()

    def by_nocase(self):
        return sorted(self.rows, key=lambda r: (r[1].lower(), r[0]))

    def test_every_op_on_a_nocase_index(self):
        order = self.by_nocase()
        with self.db.transaction() as tx:
            p = tx.table("p")
            self.assertEqual(list(p.seek("p_name", "BOB", "eq")),
                             [r for r in order if r[1].lower() == "bob"])
            self.assertEqual(list(p.seek("p_name", "bob", "ge")),
                             [r for r in order if r[1].lower() >= "bob"])
            self.assertEqual(list(p.seek("p_name", "bob", "gt")),
                             [r for r in order if r[1].lower() > "bob"])
            self.assertEqual(list(p.seek("p_name", "bob", "le")),
                             [r for r in order if r[1].lower() <= "bob"][::-1])
            self.assertEqual(list(p.seek("p_name", "bob", "lt")),
                             [r for r in order if r[1].lower() < "bob"][::-1])
            self.assertEqual(list(p.seek("p_name", "bob")),  # op defaults to 'ge'
                             [r for r in order if r[1].lower() >= "bob"])
            for op, alias in (("eq", "=="), ("ge", ">="), ("gt", ">"), ("le", "<="),
                              ("lt", "<"), ("eq", "EQ")):
                self.assertEqual(list(p.seek("p_name", "cat", op)),
                                 list(p.seek("p_name", "cat", alias)))
            self.assertEqual(list(p.seek("p_name", "zzz", "eq")), [])
            self.assertEqual(list(p.seek("p_name", "zzz", "ge")), [])
            self.assertEqual(list(p.seek("p_name", "a", "lt")), [])
            self.assertEqual(list(p.seek("p_name", "eve", "eq")),  # a range that runs to the end
                             [r for r in order if r[1] == "eve"])
            self.assertEqual(list(p.seek("P_NAME", "ann", "eq")),
                             [r for r in order if r[1] == "ann"])

    def test_a_two_column_index_with_a_descending_column(self):
        order = sorted(self.rows, key=lambda r: (r[1], -r[2], r[0]))
        with self.db.transaction() as tx:
            p = tx.table("p")
            self.assertEqual(list(p.seek("p_name_score", "bob", "eq")),
                             [r for r in order if r[1] == "bob"])
            some = [r for r in order if r[1] == "bob"][1]
            self.assertEqual(list(p.seek("p_name_score", ("bob", some[2]), "eq")),
                             [r for r in order if r[1] == "bob" and r[2] == some[2]])
            self.assertEqual(list(p.seek("p_name_score", ["bob", some[2]], "gt")),
                             [r for r in order if (r[1], -r[2]) > ("bob", -some[2])])
            self.assertEqual(list(p.seek("p_name_score", ("ann",), "ge")),
                             [r for r in order if r[1] >= "ann"])

    def test_seek_by_rowid(self):
        with self.db.transaction() as tx:
            p = tx.table("p")
            self.assertEqual(list(p.seek(None, 5, "eq")), [self.rows[4]])
            self.assertEqual(list(p.seek(None, 20, "ge")), self.rows[19:])
            self.assertEqual(list(p.seek(None, 20, "gt")), self.rows[20:])
            self.assertEqual(list(p.seek(None, 3, "le")), self.rows[:3][::-1])
            self.assertEqual(list(p.seek(None, 3, "lt")), self.rows[:2][::-1])
            self.assertEqual(list(p.seek(None, 999, "eq")), [])

    def test_seek_errors(self):
        with self.db.transaction() as tx:
            p = tx.table("p")
            with self.assertRaises(folio.NotFoundError):
                p.seek("no_such_index", "x")
            with self.assertRaises(ValueError):
                p.seek("p_name", "x", "like")
            with self.assertRaises(ValueError):
                p.seek("p_name", "x", True)
            with self.assertRaises(folio.MisuseError):
                p.seek(None, "not a rowid", "eq")
            with self.assertRaises(folio.MisuseError):
                p.seek("p_name", ("a", "b", "c"), "eq")  # more values than the index has
            with self.assertRaises(TypeError):
                p.seek(5, "x")
            with self.assertRaises(TypeError):
                p.seek("p_name", object())

    def test_cursor_moves(self):
        with self.db.transaction() as tx:
            p = tx.table("p")
            c = p.cursor()
            self.assertIn("p", repr(c))
            self.assertIsNone(c.rowid)
            with self.assertRaises(folio.MisuseError):
                c.row()  # not on a row yet
            self.assertTrue(c.first())
            self.assertEqual((c.rowid, c.row()), (1, self.rows[0]))
            self.assertTrue(c.next())
            self.assertEqual(c.column(1), self.rows[1][1])
            self.assertTrue(c.prev())
            self.assertEqual(c.rowid, 1)
            self.assertFalse(c.prev())
            self.assertIsNone(c.rowid)
            self.assertTrue(c.last())
            self.assertEqual(c.row(), self.rows[-1])
            self.assertFalse(c.next())
            self.assertTrue(c.seek_rowid(7))
            self.assertEqual(c.row(), self.rows[6])
            self.assertFalse(c.seek_rowid(1000))
            self.assertTrue(c.seek(10, "le"))
            self.assertEqual(c.rowid, 10)
            with self.assertRaises(folio.MisuseError):
                c.column(3)  # out of range
            with self.assertRaises(TypeError):
                c.column("name")
            with self.assertRaises(TypeError):
                c.seek_rowid("7")
            c.close()
            c.close()
            self.assertIn("closed", repr(c))
            for call in (c.first, c.last, c.next, c.prev, c.row, lambda: c.rowid,
                         lambda: c.seek_rowid(1), lambda: c.seek(1), lambda: c.column(0)):
                with self.assertRaises(folio.MisuseError):
                    call()
            with p.cursor("p_name") as ic:
                self.assertTrue(ic.seek("CAT", "eq"))
                cat = [r for r in self.rows if r[1] == "cat"][0]
                self.assertEqual((ic.rowid, ic.row()), (cat[0], cat))
                with self.assertRaises(folio.MisuseError):
                    ic.seek_rowid(1)  # an index cursor seeks by key
                self.assertTrue(ic.first())
                self.assertEqual(ic.row(), self.by_nocase()[0])
            self.assertIsNone(ic._h)
            with self.assertRaises(TypeError):
                p.cursor(1)
            dropped = p.cursor()
            self.assertEqual(len(tx._cursors), 1)
            del dropped  # a Cursor no one holds is closed
            self.assertEqual(len(tx._cursors), 0)
            kept = p.cursor()
        with self.assertRaises(folio.MisuseError):
            kept.first()  # its transaction has ended
        kept.close()  # does nothing


# ---------------------------------------------------------------------------
# WITHOUT ROWID tables


class TestWithoutRowid(FolioTestCase):
    DDL = ["CREATE TABLE w(k1 TEXT, k2 INT, v, PRIMARY KEY(k1, k2)) WITHOUT ROWID",
           "CREATE INDEX w_v ON w(v)",
           "CREATE TABLE s(k TEXT PRIMARY KEY COLLATE NOCASE, v) WITHOUT ROWID",
           "CREATE TABLE r(a)"]

    def test_key_operations(self):
        path, db = self.make(self.DDL)
        rows = [(k1, k2, (k2 * 3) % 4) for k1 in ("b", "a", "c") for k2 in (3, 1, 2)]
        with db.transaction(write=True) as tx:
            w = tx.table("w")
            self.assertTrue(w.without_rowid)
            self.assertEqual(w.columns, ("k1", "k2", "v"))
            for row in rows:
                self.assertIsNone(w.insert(list(row)))
            with self.assertRaises(folio.ConstraintError):
                w.insert(["a", 1, "dup"])
            self.assertEqual(w.get_key(("a", 2)), ("a", 2, 2))
            self.assertIsNone(w.get_key(("a", 9)))
            self.assertTrue(w.update_key(("a", 2), ["a", 2, "two"]))
            self.assertFalse(w.update_key(("a", 9), ["a", 9, "x"]))
            self.assertTrue(w.delete_key(["c", 3]))
            self.assertFalse(w.delete_key(["c", 3]))
            self.assertIsNone(w.upsert(None, ["c", 3, "back"]))  # inserts
            self.assertIsNone(w.upsert(None, ["b", 1, "new"]))  # replaces
            with self.assertRaises(folio.MisuseError):
                w.upsert(1, ["b", 1, "x"])  # no rowids here
            for call in (lambda: w.get(1), lambda: w.update(1, ["a", 1, 0]),
                         lambda: w.delete(1), lambda: w.patch(1, {"v": 0})):
                with self.assertRaises(folio.MisuseError):
                    call()
            s = tx.table("s")
            s.insert(["Key", 1])
            self.assertEqual(s.get_key("KEY"), ("Key", 1))  # one value: the key of one column
            self.assertTrue(s.update_key("key", ["kEY", 2]))
            self.assertTrue(s.delete_key("KEY"))
            self.assertIsNone(s.get_key("key"))
            r = tx.table("r")
            for call in (lambda: r.update_key(1, [1]), lambda: r.delete_key(1)):
                with self.assertRaises(folio.MisuseError):
                    call()  # a table with rowids has no keys
        want = sorted([("a", 1, 3), ("a", 2, "two"), ("a", 3, 1), ("b", 1, "new"),
                       ("b", 2, 2), ("b", 3, 1), ("c", 1, 3), ("c", 2, 2), ("c", 3, "back")])
        with db.transaction() as tx:
            w = tx.table("w")
            self.assertEqual(list(w.rows()), want)
            self.assertEqual(list(w.rows(reverse=True)), want[::-1])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM w ORDER BY k1, k2"), want)
        self.assertEqual(sqlite_query(path, "SELECT count(*) FROM s"), [(0,)])

    def test_seeks(self):
        path, db = self.make(self.DDL)
        rows = [(k1, k2, k2 % 3) for k1 in ("a", "b", "c") for k2 in range(1, 7)]
        with db.transaction(write=True) as tx:
            w = tx.table("w")
            for row in rows:
                w.insert(list(row))
        with db.transaction() as tx:
            w = tx.table("w")
            self.assertEqual(list(w.seek(None, "b", "eq")), [r for r in rows if r[0] == "b"])
            self.assertEqual(list(w.seek(None, ("b", 4), "ge")),
                             [r for r in rows if (r[0], r[1]) >= ("b", 4)])
            self.assertEqual(list(w.seek(None, ("b", 4), "lt")),
                             [r for r in rows if (r[0], r[1]) < ("b", 4)][::-1])
            by_v = sorted(rows, key=lambda r: (r[2], r[0], r[1]))
            for v in (0, 1, 2):  # equal ranges found by the row that ends them
                self.assertEqual(list(w.seek("w_v", v, "eq")), [r for r in by_v if r[2] == v])
            self.assertEqual(list(w.seek("w_v", 1, "gt")), [r for r in by_v if r[2] > 1])
            with w.cursor() as c:
                self.assertTrue(c.seek(("c", 2)))
                self.assertEqual(c.row(), ("c", 2, 2))
                self.assertEqual(c.rowid, 0)
                with self.assertRaises(folio.MisuseError):
                    c.seek_rowid(1)
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM w ORDER BY k1, k2"), rows)



class TestEdges(FolioTestCase):
    def test_relate_edges_unrelate(self):
        path = self.path()
        with folio.open(path) as db:
            with db.transaction(write=True) as tx:
                tx.relate("ada", "bob", "knows", 0.5, "since 2019")
                tx.relate("ada", "bob", "knows", 0.75, b"\x00\xff")  # the same edge, updated
                tx.relate("bob", "ada", weight=2)
                tx.relate("ada", "ada", "self", data=7)
                tx.relate("cy", "ada", "knows", float("inf"), 1.5)
                with self.assertRaises(folio.MisuseError):
                    tx.relate("ada", "bob", weight=float("nan"))
                with self.assertRaises(ValueError):
                    tx.relate("", "bob")
                with self.assertRaises(TypeError):
                    tx.relate("ada", 3)
                with self.assertRaises(TypeError):
                    tx.relate("ada", "bob", weight="heavy")
                self.assertTrue(tx.unrelate("cy", "ada"))
                self.assertFalse(tx.unrelate("cy", "ada"))
                tx.relate("cy", "ada", "knows", float("inf"), 1.5)
            with db.transaction() as tx:
                both = tx.edges("ada")
                self.assertEqual(both, [
                    folio.Edge("ada", "ada", "self", 1.0, 7, "out"),
                    folio.Edge("ada", "bob", "knows", 0.75, b"\x00\xff", "out"),
                    folio.Edge("bob", "ada", "", 2.0, None, "in"),
                    folio.Edge("cy", "ada", "knows", float("inf"), 1.5, "in"),
                ])
                self.assertEqual(tx.edges("ada", out=False), [  # the self-loop as incoming
                    both[2], both[3], folio.Edge("ada", "ada", "self", 1.0, 7, "in")])
                self.assertEqual(tx.edges("ada", into=False, kind="knows"), [both[1]])
                self.assertEqual(tx.edges("ada", kind="knows"), [both[1], both[3]])
                self.assertEqual(tx.edges("nobody"), [])
                with self.assertRaises(ValueError):
                    tx.edges("ada", out=False, into=False)
                with self.assertRaises(folio.ReadOnlyError):
                    tx.relate("a", "b")
        rows = sqlite_query(path, "SELECT source_key, target_key, kind, weight, data"
                                  " FROM _relations ORDER BY 1, 2, 3")
        self.assertEqual(rows, [("ada", "ada", "self", 1.0, 7),
                                ("ada", "bob", "knows", 0.75, b"\x00\xff"),
                                ("bob", "ada", "", 2.0, None),
                                ("cy", "ada", "knows", float("inf"), 1.5)])
        self.assertEqual(sqlite_query(path, "SELECT key, data FROM _concepts ORDER BY key"),
                         [("ada", None), ("bob", None), ("cy", None)])

    def test_a_database_without_edges(self):
        path, db = self.make(["CREATE TABLE t(a)"])
        with db.transaction() as tx:
            self.assertEqual(tx.edges("a"), [])
        with db.transaction(write=True) as tx:
            t = tx.table("t")  # opened before relate creates the tables
            tx.relate("a", "b")
            t.insert([1])
            self.assertEqual(tx.edges("b"), [folio.Edge("a", "b", "", 1.0, None, "in")])
        db.close()
        self.assertEqual(sqlite_query(path, "SELECT * FROM t"), [(1,)])
        self.assertEqual(sqlite_query(path, "SELECT count(*) FROM _relations"), [(1,)])

if __name__ == "__main__":
    unittest.main()


class TestForeignKeys(FolioTestCase):
    def test_enforced_when_asked(self):
        path = self.path()
        sqlite_exec(path, "CREATE TABLE p(id INTEGER PRIMARY KEY)",
                    "CREATE TABLE c(x REFERENCES p ON DELETE CASCADE, y)",
                    "INSERT INTO p VALUES(1)", "INSERT INTO c VALUES(1, 'a')")
        with folio.open(path) as db:  # off by default, as in SQLite
            with db.transaction(write=True) as tx:
                tx.table("c").insert([9, "orphan"])
        with folio.open(path, foreign_keys=True, txn_timeout_ms=60000) as db:
            with db.transaction(write=True) as tx:
                with self.assertRaises(folio.ConstraintError) as cm:
                    tx.table("c").insert([8, "orphan"])
                self.assertIn("FOREIGN KEY constraint failed", str(cm.exception))
                tx.table("p").delete(1)  # cascades
        with self.assertRaises(TypeError):
            folio.open(path, foreign_keys=1)
        self.assertEqual(sqlite_query(path, "SELECT x, y FROM c"), [(9, "orphan")])
        # The orphan from before, as PRAGMA foreign_key_check lists it.
        want = sqlite_query(path, "SELECT \"table\", rowid, parent, fkid FROM "
                                  "pragma_foreign_key_check")
        with folio.open(path) as db:
            with db.transaction() as tx:
                self.assertEqual(tx.foreign_key_check(), want)
                self.assertEqual(tx.foreign_key_check("c"), want)
                self.assertEqual(len(want), 1)
                with self.assertRaises(folio.NotFoundError):
                    tx.foreign_key_check("nosuch")
