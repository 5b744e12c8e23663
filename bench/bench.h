/*
 * bench.h - shared definitions of folio_bench: the row generator, the
 * workload plans handed to each engine, and the engine entry points.
 *
 * Every engine (folio, libsqlite3, LMDB) implements the same workloads over
 * the same rows. A row is a pure function of its id (gen_row), so files can
 * be checked and read results compared across engines by checksum.
 */
#ifndef FOLIO_BENCH_H
#define FOLIO_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* ---- rows ---- */

#define BENCH_SEED  0x9e3779b97f4a7c15ull
#define AREA_LEN    6
#define AREA_VALUES 1000000u

/* The table of every workload (the "one billion rows in a minute" shape). */
#define USER_DDL                                                                                   \
    "CREATE TABLE user(id INTEGER PRIMARY KEY, area CHAR(6), age INTEGER, active INTEGER)"
#define USER_INDEX_DDL "CREATE INDEX user_area ON user(area)"

typedef struct bench_row {
    int64_t id;
    char area[AREA_LEN]; /* 6-digit zero-padded, not NUL-terminated */
    int64_t age;         /* 0..99 */
    int64_t active;      /* 0 or 1 */
} bench_row;

static inline uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static inline void format_area(char out[AREA_LEN], uint32_t v)
{
    for (int i = AREA_LEN - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* The row stored under `id`: the same in every engine and every run. */
static inline void gen_row(bench_row *r, int64_t id)
{
    uint64_t h = mix64((uint64_t)id ^ BENCH_SEED);
    r->id = id;
    format_area(r->area, (uint32_t)(h % AREA_VALUES));
    r->age = (int64_t)((h >> 32) % 100);
    r->active = (int64_t)(h >> 63);
}

/* Order-independent digest of a row as read back; summed over a workload. */
static inline uint64_t row_digest(int64_t id, const void *area, size_t n, int64_t age,
                                  int64_t active)
{
    uint64_t a = 0;
    const unsigned char *p = area;
    for (size_t i = 0; i < n; i++)
        a = a * 131 + p[i];
    return mix64((uint64_t)id ^ (a << 16) ^ ((uint64_t)age << 8) ^ (uint64_t)active);
}

/* A small deterministic PRNG for plans (never inside timed loops' engines). */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;

static inline uint64_t rng_next(bench_rng *r)
{
    return mix64(r->s++);
}
static inline uint64_t rng_below(bench_rng *r, uint64_t n)
{
    return rng_next(r) % n;
}

/* The LMDB value: area, then age and active as one byte each. */
#define LMDB_VAL_LEN (AREA_LEN + 2)

/* ---- plans and results ---- */

typedef struct bulk_result {
    double load_s;  /* open through the commit of the load */
    double index_s; /* CREATE INDEX through its commit (bulk_index only) */
    double total_s; /* open through close */
    uint64_t file_bytes;
} bulk_result;

typedef enum { READ_LOOKUP, READ_SEEK, READ_RANGE, READ_SCAN } read_kind;

typedef struct read_plan {
    const int64_t *ids; /* READ_LOOKUP: rowids, all present */
    size_t nids;
    const char *areas; /* nareas keys of AREA_LEN bytes: READ_SEEK (EQ), READ_RANGE (GE) */
    size_t nareas;
    int range_len;     /* READ_RANGE: rows read after each seek */
    const char *where; /* READ_SCAN: only the rows this SQL expression selects (NULL: all) */
} read_plan;

typedef struct read_result {
    double secs;
    uint64_t rows; /* rows read */
    uint64_t sum;  /* sum of row_digest over the rows read */
} read_result;

typedef enum { MIXED_READ, MIXED_UPDATE, MIXED_INSERT } mixed_kind;

typedef struct mixed_op {
    int kind;
    int64_t id;
    int64_t age;    /* MIXED_UPDATE: new age and active */
    int64_t active; /* (MIXED_INSERT: the row is gen_row(id)) */
} mixed_op;

typedef struct mixed_result {
    double secs;
    uint64_t sum; /* digests of the rows read */
} mixed_result;

/* Memory figures measured in a fresh child process. */
typedef struct mem_result {
    long rss_kb;           /* ru_maxrss of the child */
    double allocs_per_row; /* heap calls per row in the measured window */
    uint64_t window_rows;  /* rows in that window */
    uint64_t allocs;       /* heap calls in that window */
} mem_result;

/* Where the last engine error was described (one line). */
#define BENCH_ERR_LEN 512
extern char bench_errbuf[BENCH_ERR_LEN];

/* Room for a path in the work directory. */
#define BENCH_PATH_LEN 4200

/* ---- engines (each returns 0, or -1 after describing the failure in
 * bench_errbuf and on stderr) ---- */

/* Load ids step, 2*step, ..., n*step in one transaction; optionally build the
 * area index afterwards. */
int fo_bulk(const char *path, int64_t n, int64_t step, int with_index, bulk_result *out);
int sq_bulk(const char *path, int64_t n, int64_t step, int with_index, int wal_after,
            bulk_result *out);
int lm_bulk(const char *path, int64_t n, int64_t step, bulk_result *out);

/* Insert gen_row(ids[i]) in ntxn transactions of per_txn rows. Timed part:
 * the transactions (the handle is opened before and closed after). */
int fo_random_insert(const char *path, const int64_t *ids, int ntxn, int per_txn, double *secs);
int sq_random_insert(const char *path, const int64_t *ids, int ntxn, int per_txn, double *secs);
int lm_random_insert(const char *path, const int64_t *ids, int ntxn, int per_txn, double *secs);

/* Rows 1..n (ascending ids) into a new table, in transactions of per_txn
 * rows (the last may be shorter). Timed part: from the first BEGIN to the
 * last COMMIT (the handle is opened and the table created before, the handle
 * closed after). folio: FOLIO_SYNC_NORMAL; SQLite: WAL, synchronous=NORMAL;
 * LMDB: MDB_NOSYNC. */
int fo_batch_insert(const char *path, int64_t n, int per_txn, double *secs);
int sq_batch_insert(const char *path, int64_t n, int per_txn, double *secs);
int lm_batch_insert(const char *path, int64_t n, int per_txn, double *secs);

/* ntxn transactions of one insert each into a new table at a sync level
 * (FOLIO_SYNC_NORMAL or FOLIO_SYNC_FULL; SQLite synchronous=NORMAL / FULL). */
int fo_autocommit(const char *path, int ntxn, int sync, double *secs);
int sq_autocommit(const char *path, int ntxn, int sync, double *secs);

/* n rows, BATCH_ROWS_SCHEMA a transaction (sync NORMAL), into a table made
 * by the DDL statements `ddl` (NULL-terminated): the schema workload, a table
 * with CHECKs, a partial and an expression index against the same table
 * with plain indexes. */
#define BATCH_ROWS_SCHEMA 1000
int fo_schema_insert(const char *path, int64_t n, const char *const *ddl, double *secs);
int sq_schema_insert(const char *path, int64_t n, const char *const *ddl, double *secs);
/* The same with foreign keys enforced, after 100 rows into table "ages"
 * (ages 0..99, the parents of user.age in the fk workload's DDL). */
int fo_fk_insert(const char *path, int64_t n, const char *const *ddl, double *secs);
int sq_fk_insert(const char *path, int64_t n, const char *const *ddl, double *secs);

/* The trigger workload: a table whose AFTER INSERT trigger writes an audit
 * row,
 *   items(id INTEGER PRIMARY KEY, name TEXT, qty INT)
 *   audit(id INTEGER PRIMARY KEY, item INT, action TEXT, at INT)
 *   items_audit AFTER INSERT ON items: INSERT INTO audit(item, action, at)
 *                                      VALUES(NEW.id, 'insert', TRIGGER_AT)
 * made by libsqlite3 (sq_trigger_schema, untimed) in a fresh file for each
 * engine; then rows 1..n (id, area as the name, age as the qty of
 * gen_row(id)), TRIGGER_ROWS_PER_TXN a transaction (sync NORMAL). */
#define TRIGGER_ROWS_PER_TXN 10000
#define TRIGGER_AT           1700000000
int sq_trigger_schema(const char *path);
int fo_trigger_insert(const char *path, int64_t n, double *secs);
int sq_trigger_insert(const char *path, int64_t n, double *secs);
/* Check a file of the trigger workload with libsqlite3: integrity_check, n
 * items with sum(qty) = sum_qty, and n audit rows, one per item with the
 * trigger's values. */
int sq_trigger_verify(const char *path, int64_t n, int64_t sum_qty);

/* n rows, BATCH_ROWS_SCHEMA a transaction (sync NORMAL), into the user
 * table through folio_insert_struct (codec 1: a codec bound in every
 * transaction, fields I64 id, CHARS area, I32 age, BOOL active) or through
 * folio_insert with a value array (codec 0): the struct workload, whose
 * SQLite side is sq_batch_insert. */
int fo_struct_insert(const char *path, int64_t n, int codec, double *secs);

/* The vacuum workload's file: rows 1..n with the user_area index, a third
 * of them then deleted in runs of VACUUM_RUN ids (vacuum_deleted). Deleting
 * single rows (every third one) would leave each page two-thirds full and
 * free none: with runs, whole table pages go to the freelist while the index
 * pages keep their gaps, and VACUUM has both to mend. */
#define VACUUM_RUN 1000
static inline int vacuum_deleted(int64_t id)
{
    return (id - 1) / VACUUM_RUN % 3 == 2;
}
/* Written by libsqlite3 in WAL mode (the bulk pragmas, then WAL), the
 * deletes in one transaction; closed, so the file stands alone. */
int sq_vacuum_source(const char *path, int64_t n);
/* PRAGMA freelist_count of a closed file, read with libsqlite3. */
int sq_freelist_count(const char *path, int64_t *out);
/* Rebuild the file at `path`: in place (dest NULL) or into `dest`. The
 * handle is opened before the clock starts (folio: FOLIO_SYNC_NORMAL;
 * SQLite: WAL, synchronous=NORMAL, 64 MiB cache); timed: folio_vacuum /
 * VACUUM [INTO] and the close after it (each engine's close checkpoints). */
int fo_vacuum(const char *path, const char *dest, double *secs);
int sq_vacuum(const char *path, const char *dest, double *secs);

/* What the threads and rmw workloads count besides time. */
typedef struct conc_stats {
    uint64_t retries; /* transactions run again (FOLIO_CONFLICT / SQLITE_BUSY) */
    uint64_t retried; /* transactions that needed at least one retry */
    int max_attempts; /* the most runs one transaction needed */
    /* folio only, from folio_metrics before the close: automatic and
     * explicit checkpoints, and those a snapshot stopped short */
    uint64_t checkpoints, checkpoints_short;
} conc_stats;

/* ntxn one-insert transactions into a new table, from nthreads threads at
 * once (at most BENCH_MAX_THREADS): folio's threads share one handle (with
 * FOLIO_SYNC_FULL their commits share syncs); SQLite's each have a
 * connection, BEGIN IMMEDIATE and a busy timeout. folio's transactions are
 * begun with `txn_flags`: FOLIO_TXN_WRITE (the writers queue for the writer
 * role) or FOLIO_TXN_CONCURRENT (each runs on its snapshot; one that fails
 * its commit with FOLIO_CONFLICT is run again; `st` counts those). */
#define BENCH_MAX_THREADS 64
int fo_threads(const char *path, int nthreads, int ntxn, int sync, unsigned txn_flags,
               conc_stats *st, double *secs);
int sq_threads(const char *path, int nthreads, int ntxn, int sync, double *secs);

/* The rmw workload (read-modify-write): a table of counters and a log,
 *   counter(id INTEGER PRIMARY KEY, n INTEGER)  rows 1..RMW_ROWS, n = RMW_INITIAL
 *   event(id INTEGER PRIMARY KEY, counter INTEGER, n INTEGER)  empty
 * made by each engine itself in a new file, untimed. Then ntxn transactions
 * from nthreads threads (thread k runs transactions k, k + nthreads, ...):
 * transaction i reads counter rmw_counter(i), writes n + 1 back and inserts
 * an event row (automatic rowid) holding the counter's id and its new n.
 * Sync NORMAL. A transaction the other writers make fail (folio:
 * FOLIO_CONFLICT; SQLite: SQLITE_BUSY) is rolled back and run again until
 * it commits, so exactly ntxn commit. */
#define RMW_ROWS        1000
#define RMW_INITIAL     100
#define RMW_DDL_COUNTER "CREATE TABLE counter(id INTEGER PRIMARY KEY, n INTEGER)"
#define RMW_DDL_EVENT   "CREATE TABLE event(id INTEGER PRIMARY KEY, counter INTEGER, n INTEGER)"
static inline int64_t rmw_counter(int64_t i)
{
    return (int64_t)(mix64((uint64_t)i ^ BENCH_SEED ^ 0x726d77u) % RMW_ROWS) + 1;
}
/* folio: one handle shared by the threads, FOLIO_SYNC_NORMAL, transactions
 * begun with `txn_flags` (FOLIO_TXN_CONCURRENT or FOLIO_TXN_WRITE). *secs:
 * the threads' start through their last commit. */
int fo_rmw(const char *path, int nthreads, int ntxn, unsigned txn_flags, conc_stats *st,
           double *secs);
/* SQLite: a connection per thread, WAL, synchronous=NORMAL, busy timeout,
 * BEGIN IMMEDIATE. */
int sq_rmw(const char *path, int nthreads, int ntxn, conc_stats *st, double *secs);
/* Check an rmw file with libsqlite3 after `commits` transactions:
 * integrity_check; RMW_ROWS counters with sum(n) - RMW_ROWS * RMW_INITIAL =
 * commits; `commits` event rows; and for each counter, its events carry the
 * distinct values RMW_INITIAL + 1 .. its n (no update lost or doubled). */
int sq_rmw_verify(const char *path, int64_t commits);

/* The log workload: folio with its commit log off (FO_LOG_OFF) or on
 * (FOLIO_LOG_ZSTD, FOLIO_LOG_LZ4), turned on with folio_log_enable after
 * the table is made, before the clock starts. */
#define FO_LOG_OFF (-1)
typedef struct log_stats {
    uint64_t frames;    /* WAL frames appended in the timed part (folio_metrics) */
    uint32_t page_size; /* of the database */
    uint64_t version;   /* folio_version after the last commit */
} log_stats;
/* Rows 1..n of the user table in transactions of per_txn rows (1: each its
 * own transaction), as fo_batch_insert / fo_autocommit, at sync level
 * `sync`. */
int fo_log_insert(const char *path, int64_t n, int per_txn, int sync, int log, log_stats *ls,
                  double *secs);
/* The update part: rows 1..nrows loaded in one transaction (untimed), then
 * ntxn transactions of one update each (log_update(i) for i = 0..ntxn-1),
 * timed. folio updates through folio_patch, SQLite through a prepared
 * UPDATE ... WHERE id = ?. */
int fo_log_update(const char *path, int64_t nrows, int ntxn, int sync, int log, log_stats *ls,
                  double *secs);
int sq_log_update(const char *path, int64_t nrows, int ntxn, int sync, double *secs);
/* The i-th update of the log workload: row *id gets age *age and active
 * *active. */
static inline void log_update(int64_t i, int64_t nrows, int64_t *id, int64_t *age, int64_t *active)
{
    uint64_t h = mix64((uint64_t)i ^ BENCH_SEED ^ 0x6c6f67u);
    *id = (int64_t)(h % (uint64_t)nrows) + 1;
    *age = (int64_t)((h >> 32) % 100);
    *active = (int64_t)(h >> 63);
}
/* Rebuild `dest` from the commit log of the database at `path` at version
 * `version` (folio_restore); the version restored must be that one. */
int fo_log_restore(const char *path, uint64_t version, const char *dest);
/* restore: enable the commit log of the bulk-loaded `path` (nrows rows of
 * user), then make `ncommits` single-row transactions (by turns a row
 * patched, spread over the table, and a row inserted); *out_version: the
 * last version. */
int fo_restore_source(const char *path, int64_t nrows, int ncommits, uint64_t *out_version);

int fo_read(const char *path, read_kind k, const read_plan *p, long cache_mb, long mmap_mb,
            read_result *out);
int sq_read(const char *path, read_kind k, const read_plan *p, long mmap_mb, read_result *out);
int lm_read(const char *path, read_kind k, const read_plan *p, read_result *out);

int fo_mixed(const char *path, const mixed_op *ops, int ntxn, int per_txn, mixed_result *out);
int sq_mixed(const char *path, const mixed_op *ops, int ntxn, int per_txn, mixed_result *out);
int lm_mixed(const char *path, const mixed_op *ops, int ntxn, int per_txn, mixed_result *out);

/* Memory children: insert `rows` rows (window: rows warm+1 .. warm+window),
 * or run lookups / a scan on an existing file. */
int fo_mem_insert(const char *path, int64_t rows, int64_t warm, int64_t window, mem_result *out);
int sq_mem_insert(const char *path, int64_t rows, int64_t warm, int64_t window, mem_result *out);
int fo_mem_read(const char *path, int64_t rows, int scan, int64_t warm, int64_t window,
                mem_result *out);
int sq_mem_read(const char *path, int64_t rows, int scan, int64_t warm, int64_t window,
                mem_result *out);
/* Route SQLite's allocations through a counter; call before any other
 * sqlite3_* call in the process. */
int sq_count_allocs(void);
uint64_t sq_alloc_calls(void);

/* Check a file folio wrote with libsqlite3: integrity_check, the row count
 * and, when want_sums, sum(age) and sum(active). */
int sq_verify(const char *path, int64_t rows, int want_sums, int64_t sum_age, int64_t sum_active,
              int want_index);

/* Import: a fresh file holding the empty user table (made with libsqlite3),
 * and the script the sqlite3 shell runs: the bulk pragmas, then
 * `.import --csv --skip 1 CSV user`. */
int sq_create_user(const char *path);
int sq_import_script(const char *script_path, const char *csv_path);

/* ---- utilities (bench_util.c) ---- */

double now_s(void);
uint64_t heap_calls(void); /* malloc/calloc/realloc calls from folio and the bench */
uint64_t sync_calls(void); /* fdatasync/fsync calls from folio (not libsqlite3) */
long peak_rss_kb(void);
uint64_t file_bytes(const char *path);
int copy_file(const char *from, const char *to);
/* Bytes of the files of "<db_path>-log/" whose names end in `suffix`
 * (".seg", ".base"). */
uint64_t log_dir_bytes(const char *db_path, const char *suffix);
/* Remove "<db_path>-log/" and the files in it. */
void remove_log_dir(const char *db_path);
void remove_db(const char *path); /* path, path-wal, path-journal, path-shm, path-lock */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Rows 1..n of the user table as CSV after the header line id,area,age,active. */
int write_user_csv(const char *path, int64_t n);
/* `name` if it contains a '/', else the first executable `name` in $PATH,
 * into out; -1 (out empty) if there is none. */
int find_executable(const char *name, char *out, size_t cap);
void file_last_line(const char *path, char *out, size_t cap);
/* fork + exec argv[0] with stdin from in_path (NULL: /dev/null) and stdout
 * and stderr into out_path; *secs is the wall time from before the fork to
 * after the wait. 0 if it exited with status 0, else -1 after bench_fail
 * (with the last line of its output). */
int run_program(char *const argv[], const char *in_path, const char *out_path, double *secs);

#endif /* FOLIO_BENCH_H */
