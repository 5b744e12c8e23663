/*
 * test_wal_tamper.c - torn, damaged, stale and foreign -wal files.
 *
 * A history of commits is written with folio (FOLIO_SYNC_FULL, no automatic
 * checkpoint) and the database and its -wal are copied while the handle is
 * open, as a kill would leave them. The copies are then damaged: garbage
 * appended, the last frame's bytes flipped, a frame cut in half, the header
 * broken, every single byte flipped in turn (sampled), the header of an
 * earlier WAL generation put back, a WAL saved before a checkpoint put back,
 * a WAL from another database, a WAL with another page size. For each the
 * test checks:
 *
 *   - folio never applies a frame beyond the last valid commit frame: the
 *     content is exactly the state after the last commit whose frames are
 *     all intact (or the database file alone when none is);
 *   - folio and libsqlite3 read the same content; folio_check is clean and
 *     integrity_check says "ok";
 *   - the file can be opened read-write, written and closed afterwards.
 *
 * A WAL put beside a database it does not belong to (from another database,
 * or older than the database file) cannot be told from a valid one by
 * either library: there the test only asks that folio and libsqlite3 agree
 * on the content and on whether it is damaged, and that nothing crashes.
 *
 * FOLIO_SEED sets the seed of the random byte flips; FOLIO_SOAK=1 flips
 * every byte of the WAL instead of a sample.
 */
#include "crash_support.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAL_HDR     32
#define FRAME_HDR   24
#define MAX_COMMITS 16

typedef struct history {
    char *dir;
    char *path; /* the live database */
    unsigned page_size;
    int ncommits;
    uint64_t states[MAX_COMMITS + 1]; /* states[0]: before the first commit */
    uint32_t mx[MAX_COMMITS + 1];     /* WAL frames (last commit frame) after commit k */
} history;

static folio_value v_int(int64_t i)
{
    folio_value v;
    v.type = FOLIO_INTEGER;
    v.u.i = i;
    return v;
}

static folio_value v_blob(const void *p, size_t n)
{
    folio_value v;
    v.type = FOLIO_BLOB;
    v.u.s.p = p;
    v.u.s.n = n;
    return v;
}

static uint8_t blobbuf[30000];

static folio_db *open_full(const char *path, unsigned page_size)
{
    folio_options o = FOLIO_OPTIONS_INIT;
    o.sync = FOLIO_SYNC_FULL;
    o.wal_autocheckpoint = 0;
    o.page_size = page_size;
    folio_db *db;
    int rc = folio_open(&db, path, &o);
    cr_assert_eq(rc, FOLIO_OK, "folio_open: %s: %s", crash_rc_name(rc), folio_open_errmsg());
    return db;
}

static uint32_t wal_frames(folio_db *db)
{
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_READ), FOLIO_OK);
    folio_info info;
    cr_assert_eq(folio_info_get(&info, txn), FOLIO_OK);
    folio_rollback(txn);
    return info.wal_frames;
}

/* Commit number k of the history (k = 1..): rows keyed by k. */
static void commit_k(history *h, folio_db *db, int k)
{
    folio_txn *txn;
    cr_assert_eq(folio_begin(&txn, db, FOLIO_TXN_WRITE), FOLIO_OK);
    if (k == 1)
        cr_assert_eq(folio_exec(txn, "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, b BLOB)"),
                     FOLIO_OK);
    if (k == 3)
        cr_assert_eq(folio_exec(txn, "CREATE INDEX t_k ON t(k)"), FOLIO_OK);
    folio_table *t;
    cr_assert_eq(folio_table_open(&t, txn, "t"), FOLIO_OK);
    for (int i = 0; i < 6; i++) {
        int64_t id = k * 100 + i;
        size_t n = (i == 0) ? 9000 : (size_t)(30 + 50 * i);
        crash_fill(blobbuf, n, (uint64_t)id);
        folio_value r[3] = {v_int(id), v_int(k), v_blob(blobbuf, n)};
        cr_assert_eq(folio_insert(NULL, t, r, 3), FOLIO_OK, "%s", folio_errmsg(db));
    }
    if (k > 1) {
        /* Change a row of every earlier commit, delete another. */
        for (int j = 1; j < k; j++) {
            crash_fill(blobbuf, 200, (uint64_t)(k * 1000 + j));
            folio_value r[3] = {v_int(j * 100 + 1), v_int(-k), v_blob(blobbuf, 200)};
            cr_assert_eq(folio_update(t, j * 100 + 1, r, 3), FOLIO_OK, "%s", folio_errmsg(db));
        }
        cr_assert_eq(folio_delete(t, (k - 1) * 100 + 2), FOLIO_OK);
    }
    int rc = folio_commit(txn);
    cr_assert_eq(rc, FOLIO_OK, "commit %d: %s: %s", k, crash_rc_name(rc), folio_errmsg(db));
    char err[600];
    cr_assert_eq(crash_hash_db(db, &h->states[k], err, sizeof err), 0, "%s", err);
    h->mx[k] = wal_frames(db);
    h->ncommits = k;
}

/* The live database with commits 1..n, still open (the caller closes). */
static folio_db *history_make(history *h, const char *tag, int n, unsigned page_size)
{
    memset(h, 0, sizeof *h);
    h->dir = crash_tmpdir(tag);
    h->path = crash_path(h->dir, "live.db");
    h->page_size = page_size;
    folio_db *db = open_full(h->path, page_size);
    char err[600];
    cr_assert_eq(crash_hash_db(db, &h->states[0], err, sizeof err), 0, "%s", err);
    for (int k = 1; k <= n; k++)
        commit_k(h, db, k);
    return db;
}

static void history_free(history *h, int keep)
{
    if (!keep)
        crash_rmtree(h->dir);
    else
        fprintf(stderr, "files kept in %s\n", h->dir);
    free(h->dir);
    free(h->path);
}

/* The expected state when frames from `bad` on are invalid: the last commit
 * whose commit frame is before it (commits `from`.. are in this WAL
 * generation; before them the database file holds state from - 1). */
static int state_before_frame(const history *h, int from, uint32_t bad)
{
    int j = from - 1;
    for (int k = from; k <= h->ncommits; k++)
        if (h->mx[k] < bad)
            j = k;
    return j;
}

/* ---- file surgery ---- */

static uint8_t *load(const char *path, size_t *n)
{
    uint8_t *p = crash_read_file(path, n);
    cr_assert_not_null(p, "cannot read %s", path);
    return p;
}

static void store(const char *path, const uint8_t *p, size_t n)
{
    cr_assert_eq(crash_write_file(path, p, n), 0, "cannot write %s", path);
}

/* A copy of the live files named `name` in the history's directory. */
static char *copy_of(const history *h, const char *name)
{
    char *to = crash_path(h->dir, name);
    crash_remove_db(to);
    cr_assert_eq(crash_copy_db(h->path, to), 0);
    return to;
}

static uint64_t frame_off(const history *h, uint32_t f)
{
    return WAL_HDR + (uint64_t)(f - 1) * (FRAME_HDR + h->page_size);
}

/* ---- checks ---- */

/* The copy must read as state `want` (full checks), then survive a write. */
static void expect_state(const char *path, const history *h, int want, const char *what,
                         crash_failures *fl)
{
    char err[1024];
    uint64_t got;
    if (crash_verify(path, &got, err, sizeof err) < 0) {
        crash_fail(fl, "%s: %s", what, err);
        return;
    }
    if (got != h->states[want]) {
        int match = -1;
        for (int k = 0; k <= h->ncommits; k++)
            if (h->states[k] == got)
                match = k;
        crash_fail(fl, "%s: expected the state after commit %d, found %s %d", what, want,
                   match >= 0 ? "the state after commit" : "a state of no commit (-1)", match);
        return;
    }
    if (crash_write_after(path, got, err, sizeof err) < 0)
        crash_fail(fl, "%s: %s", what, err);
}

/* For WALs that do not belong to the file: folio and libsqlite3 agree. */
static void expect_agreement(const char *path, const char *what, crash_failures *fl)
{
    char ferr[1024], serr[1024];
    uint64_t hf = 0, hs = 0;
    int fcheck = crash_check_folio(path, ferr, sizeof ferr);
    int scheck = crash_check_sqlite(path, serr, sizeof serr);
    int fhash = crash_hash_folio(path, &hf, ferr, sizeof ferr);
    int shash = crash_hash_sqlite(path, &hs, serr, sizeof serr);
    printf("%s: folio check %s, sqlite integrity %s, content %s\n", what,
           fcheck == 0 ? "clean" : "finds damage", scheck == 0 ? "ok" : "finds damage",
           fhash == 0 && shash == 0 ? (hf == hs ? "the same" : "DIFFERENT") : "unreadable");
    if ((fcheck == 0) != (scheck == 0))
        crash_fail(fl, "%s: folio_check and integrity_check disagree (folio: %s; sqlite: %s)", what,
                   fcheck == 0 ? "clean" : ferr, scheck == 0 ? "ok" : serr);
    if (fhash == 0 && shash == 0 && hf != hs)
        crash_fail(fl, "%s: folio and libsqlite3 read different content", what);
    if ((fhash == 0) != (shash == 0))
        crash_fail(fl,
                   "%s: one library reads the file and the other does not (folio: %s; "
                   "sqlite: %s)",
                   what, fhash == 0 ? "reads" : ferr, shash == 0 ? "reads" : serr);
}

/* ---- tests ---- */

Test(crash_wal_tamper, garbage_tail_and_damaged_last_frame, .timeout = 300)
{
    history h;
    folio_db *db = history_make(&h, "tamper", 4, 4096);
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    uint64_t rng = crash_seed(7, "wal_tamper garbage");

    /* Untouched: the last commit. */
    char *p = copy_of(&h, "plain.db");
    expect_state(p, &h, 4, "untouched copy", &fl);
    free(p);

    /* Random bytes after the last frame. */
    for (size_t len = 1; len <= 20000; len = len * 7 + 3) {
        p = copy_of(&h, "tail.db");
        char *wal = crash_suffix(p, "-wal");
        size_t n;
        uint8_t *w = load(wal, &n);
        w = realloc(w, n + len);
        cr_assert_not_null(w);
        for (size_t i = 0; i < len; i++)
            w[n + i] = (uint8_t)crash_rand(&rng);
        store(wal, w, n + len);
        char what[64];
        snprintf(what, sizeof what, "%zu garbage bytes appended", len);
        expect_state(p, &h, 4, what, &fl);
        free(w);
        free(wal);
        free(p);
    }

    /* A copy of the last frame appended again (valid salts, broken chain). */
    {
        p = copy_of(&h, "dup.db");
        char *wal = crash_suffix(p, "-wal");
        size_t n, fb = FRAME_HDR + h.page_size;
        uint8_t *w = load(wal, &n);
        w = realloc(w, n + fb);
        cr_assert_not_null(w);
        memcpy(w + n, w + n - fb, fb);
        store(wal, w, n + fb);
        expect_state(p, &h, 4, "last frame appended twice", &fl);
        free(w);
        free(wal);
        free(p);
    }

    /* The last frame (commit 4's commit frame) damaged in each of its fields. */
    static const struct {
        const char *what;
        size_t off; /* within the frame */
    } spots[] = {
        {"page number", 2},      {"database size", 7},     {"salt-1", 9},
        {"salt-2", 13},          {"checksum-1", 17},       {"checksum-2", 22},
        {"first page byte", 24}, {"middle of page", 2000}, {"last page byte", 0}, /* set below */
    };
    for (size_t s = 0; s < sizeof spots / sizeof spots[0]; s++) {
        p = copy_of(&h, "flip.db");
        char *wal = crash_suffix(p, "-wal");
        size_t n;
        uint8_t *w = load(wal, &n);
        uint64_t at =
            frame_off(&h, h.mx[4]) + (spots[s].off ? spots[s].off : FRAME_HDR + h.page_size - 1);
        cr_assert_lt(at, n);
        w[at] ^= 0x5a;
        store(wal, w, n);
        char what[96];
        snprintf(what, sizeof what, "last frame: %s flipped", spots[s].what);
        expect_state(p, &h, 3, what, &fl);
        free(w);
        free(wal);
        free(p);
    }

    /* Torn: the WAL cut inside the last frame, and right after the header. */
    {
        uint64_t cuts[] = {frame_off(&h, h.mx[4]) + FRAME_HDR + h.page_size / 2,
                           frame_off(&h, h.mx[4]) + 10, frame_off(&h, h.mx[3] + 1), WAL_HDR, 17};
        int want[] = {3, 3, 3, 0, 0};
        for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
            p = copy_of(&h, "cut.db");
            char *wal = crash_suffix(p, "-wal");
            cr_assert_eq(truncate(wal, (off_t)cuts[c]), 0);
            char what[64];
            snprintf(what, sizeof what, "WAL cut at byte %" PRIu64, cuts[c]);
            expect_state(p, &h, want[c], what, &fl);
            free(wal);
            free(p);
        }
    }

    /* The header's checksum broken: the whole WAL is ignored. */
    {
        p = copy_of(&h, "hdr.db");
        char *wal = crash_suffix(p, "-wal");
        size_t n;
        uint8_t *w = load(wal, &n);
        w[27] ^= 1;
        store(wal, w, n);
        expect_state(p, &h, 0, "WAL header checksum flipped", &fl);
        free(w);
        free(wal);
        free(p);
    }
    folio_close(db);
    history_free(&h, fl.n != 0);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
}

Test(crash_wal_tamper, every_byte_flipped, .timeout = 900)
{
    history h;
    folio_db *db = history_make(&h, "tamper-bytes", 4, 1024);
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    uint64_t rng = crash_seed(11, "wal_tamper byte flips");
    char *p = crash_path(h.dir, "byte.db");
    char *wal = crash_suffix(p, "-wal");
    char *live_wal = crash_suffix(h.path, "-wal");
    size_t n;
    uint8_t *orig = load(live_wal, &n);
    uint8_t *w = malloc(n);
    cr_assert_not_null(w);
    long tried = 0;
    long samples = crash_soak() ? (long)n : 60;
    for (long s = 0; s < samples; s++) {
        /* Every byte with FOLIO_SOAK, else the header and a random sample. */
        size_t at = crash_soak() ? (size_t)s : s < 8 ? (size_t)(s * 4) : crash_below(&rng, n);
        uint8_t x = (uint8_t)(1 + crash_below(&rng, 255));
        crash_remove_db(p);
        cr_assert_eq(crash_copy_file(h.path, p), 0);
        memcpy(w, orig, n);
        w[at] ^= x;
        store(wal, w, n);
        int want;
        if (at < WAL_HDR)
            want = 0;
        else
            want = state_before_frame(&h, 1,
                                      (uint32_t)((at - WAL_HDR) / (FRAME_HDR + h.page_size)) + 1);
        char what[96];
        snprintf(what, sizeof what, "byte %zu of the WAL xor 0x%02x", at, x);
        expect_state(p, &h, want, what, &fl);
        tried++;
    }
    printf("wal bytes flipped: %ld of %zu\n", tried, n);
    fflush(stdout);
    free(orig);
    free(w);
    free(live_wal);
    free(wal);
    free(p);
    folio_close(db);
    history_free(&h, fl.n != 0);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
}

Test(crash_wal_tamper, earlier_generation_salts_are_never_applied, .timeout = 300)
{
    history h;
    folio_db *db = history_make(&h, "tamper-gen", 3, 4096);
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    char *live_wal = crash_suffix(h.path, "-wal");
    size_t n1;
    uint8_t *gen1 = load(live_wal, &n1); /* generation 1: commits 1..3 */

    /* Checkpoint and restart: generation 2 is written over generation 1. */
    int log = -1, done = -1;
    cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_RESTART, &log, &done), FOLIO_OK);
    cr_assert_eq(log, done);
    commit_k(&h, db, 4);
    cr_assert_lt(h.mx[4], h.mx[3], "generation 2 should be shorter than generation 1");

    /* As written: gen-2 header and frames, then gen-1 frames with old salts. */
    char *p = copy_of(&h, "gen.db");
    expect_state(p, &h, 4, "restarted WAL with frames of generation 1 after its end", &fl);
    free(p);

    /* The gen-1 header put back over gen 2: no frame matches its salts. */
    p = copy_of(&h, "gen-oldhdr.db");
    char *wal = crash_suffix(p, "-wal");
    size_t n;
    uint8_t *w = load(wal, &n);
    memcpy(w, gen1, WAL_HDR);
    store(wal, w, n);
    expect_state(p, &h, 3, "generation-1 header over generation-2 frames", &fl);
    free(w);
    free(wal);
    free(p);

    folio_close(db);
    char err[1024];
    cr_assert_eq(crash_verify(h.path, NULL, err, sizeof err), 0, "%s", err);

    /* Generation 1 put back beside the newer database (commit 4 is in the
     * file now): neither folio nor SQLite can tell; they must agree. */
    p = copy_of(&h, "gen-stale.db");
    wal = crash_suffix(p, "-wal");
    store(wal, gen1, n1);
    expect_agreement(p, "a WAL older than the database file", &fl);
    free(wal);
    free(p);

    free(gen1);
    free(live_wal);
    history_free(&h, fl.n != 0);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
}

Test(crash_wal_tamper, wal_saved_before_a_checkpoint_replays_to_the_same_state, .timeout = 300)
{
    history h;
    folio_db *db = history_make(&h, "tamper-replay", 3, 4096);
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    char *live_wal = crash_suffix(h.path, "-wal");
    size_t n;
    uint8_t *saved = load(live_wal, &n);
    int log = -1, done = -1;
    cr_assert_eq(folio_checkpoint(db, FOLIO_CHECKPOINT_TRUNCATE, &log, &done), FOLIO_OK);
    cr_assert_eq(log, done);
    cr_assert_eq(crash_file_size(live_wal), 0);
    char *p = copy_of(&h, "replay.db");
    char *wal = crash_suffix(p, "-wal");
    store(wal, saved, n);
    expect_state(p, &h, 3, "WAL saved before a TRUNCATE checkpoint put back", &fl);
    free(wal);
    free(p);
    free(saved);
    free(live_wal);
    folio_close(db);
    history_free(&h, fl.n != 0);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
}

Test(crash_wal_tamper, wal_of_another_database, .timeout = 300)
{
    history a, b;
    folio_db *da = history_make(&a, "tamper-a", 2, 4096);
    folio_db *dbb = history_make(&b, "tamper-b", 3, 4096);
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    /* b's WAL beside a's database (same page size). */
    char *p = copy_of(&a, "foreign.db");
    char *wal = crash_suffix(p, "-wal");
    char *bwal = crash_suffix(b.path, "-wal");
    cr_assert_eq(crash_copy_file(bwal, wal), 0);
    expect_agreement(p, "the WAL of another database (same page size)", &fl);
    free(bwal);
    free(wal);
    free(p);
    folio_close(da);
    folio_close(dbb);
    history_free(&a, fl.n != 0);
    history_free(&b, fl.n != 0);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
}

Test(crash_wal_tamper, wal_with_another_page_size_is_ignored_by_folio, .timeout = 300)
{
    history a, b;
    folio_db *da = history_make(&a, "tamper-ps4k", 2, 4096);
    folio_db *dbb = history_make(&b, "tamper-ps1k", 3, 1024);
    crash_failures fl;
    memset(&fl, 0, sizeof fl);
    /* The 4096-byte database, checkpointed, with the 1024-byte one's WAL. */
    cr_assert_eq(folio_checkpoint(da, FOLIO_CHECKPOINT_TRUNCATE, NULL, NULL), FOLIO_OK);
    char *p = copy_of(&a, "pagesize.db");
    char *wal = crash_suffix(p, "-wal");
    char *bwal = crash_suffix(b.path, "-wal");
    cr_assert_eq(crash_copy_file(bwal, wal), 0);
    cr_assert_gt(crash_file_size(wal), 0);
    /* folio ignores it: the database file alone. (libsqlite3 applies such a
     * WAL and reads damaged pages; that is its business.) */
    char err[1024];
    uint64_t hf;
    if (crash_check_folio(p, err, sizeof err) < 0)
        crash_fail(&fl, "page size mismatch: %s", err);
    else if (crash_hash_folio(p, &hf, err, sizeof err) < 0)
        crash_fail(&fl, "page size mismatch: %s", err);
    else if (hf != a.states[2])
        crash_fail(&fl, "page size mismatch: folio applied the WAL of another page size");
    printf("a WAL with 1024-byte pages beside a 4096-byte database: libsqlite3 says %s\n",
           crash_check_sqlite(p, err, sizeof err) == 0 ? "ok" : "damaged");
    /* Written by folio, the foreign WAL is replaced and the file is clean for
     * both libraries. */
    if (fl.n == 0 && crash_write_after(p, a.states[2], err, sizeof err) < 0)
        crash_fail(&fl, "page size mismatch: %s", err);
    free(bwal);
    free(wal);
    free(p);
    folio_close(da);
    folio_close(dbb);
    history_free(&a, fl.n != 0);
    history_free(&b, fl.n != 0);
    cr_assert_eq(fl.n, 0, "%d failures; first: %s", fl.n, fl.first);
}
