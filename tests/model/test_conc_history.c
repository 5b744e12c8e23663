/*
 * Histories of concurrent transactions, checked offline for anomalies in the
 * manner of Elle's list-append model.
 *
 * Keys hold lists (a row per key, its text "v1,v2,..."). Each transaction
 * reads some keys and appends a value that is unique in the whole run to
 * some of them; threads run such transactions at once (FOLIO_TXN_CONCURRENT
 * or FOLIO_TXN_SERIALIZABLE), retrying nothing. Afterwards the final lists
 * (read by libsqlite3) order each key's appends, and every read of a
 * committed transaction saw a prefix of its key's final list. From that:
 *  - every committed append is in its list exactly once, no failed one is
 *    anywhere (lost writes, G1a aborted reads), and each read is a prefix
 *    of the final list (G1b / divergent versions);
 *  - the dependency graph of committed transactions - ww (the appender of
 *    element i before that of i+1), wr (the appender of the last element a
 *    read saw before the reader), rw (a reader before the appender of the
 *    first element it did not see) - has no cycle of ww and wr edges (G0,
 *    G1c: forbidden under snapshot isolation), and under serializable no
 *    cycle at all (G2: write skew, anti-dependency cycles).
 * The seed is printed; FOLIO_SEED replays it.
 */
#include "folio.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NKEYS    6
#define NTHREADS 6
#define NTXNS    120 /* per thread */
#define MAXOPS   4
#define MAXVALS  ((NTHREADS * NTXNS + 1) * 8) /* value: txn id * 8 + its op */

typedef struct op {
    int key;
    int append; /* 0: a read */
    int nseen;  /* a read: elements seen */
    int *seen;  /* a read: the list it saw */
} op;

typedef struct txn_rec {
    int id; /* also the value it appends */
    int committed;
    int nops;
    op ops[MAXOPS];
} txn_rec;

typedef struct run {
    folio_db *db;
    unsigned flags;
    unsigned seed;
    txn_rec *txns; /* NTHREADS * NTXNS, id = index + 1 */
    int errors;
    char err[256];
} run;

typedef struct worker {
    run *r;
    int t;
} worker;

static char g_dir[512], g_path[600];

static int parse_list(const char *s, size_t n, int **out)
{
    int cnt = 0, cap = 8;
    int *v = malloc(sizeof *v * (size_t)cap);
    size_t i = 0;
    while (i < n) {
        int x = 0;
        while (i < n && s[i] != ',')
            x = x * 10 + (s[i++] - '0');
        i++;
        if (cnt == cap)
            v = realloc(v, sizeof *v * (size_t)(cap *= 2));
        v[cnt++] = x;
    }
    *out = v;
    return cnt;
}

/* One transaction: its ops drawn from rs; the record filled in. */
static void one_txn(run *r, txn_rec *rec, unsigned *rs)
{
    folio_txn *t;
    if (folio_begin(&t, r->db, r->flags) != FOLIO_OK) {
        r->errors++;
        return;
    }
    folio_table *tab;
    folio_cursor *c;
    if (folio_table_open(&tab, t, "lists") != FOLIO_OK ||
        folio_cursor_open(&c, tab, NULL) != FOLIO_OK) {
        folio_rollback(t);
        r->errors++;
        return;
    }
    rec->nops = 1 + (int)(rand_r(rs) % MAXOPS);
    for (int i = 0; i < rec->nops; i++) {
        op *o = &rec->ops[i];
        o->key = (int)(rand_r(rs) % NKEYS) + 1;
        o->append = rand_r(rs) % 2;
        o->seen = NULL;
        o->nseen = 0;
        if (folio_cursor_seek_rowid(c, o->key) != FOLIO_ROW) {
            r->errors++;
            continue;
        }
        folio_value v;
        folio_cursor_column(&v, c, 1);
        char cur[8192];
        size_t n = v.type == FOLIO_TEXT ? v.u.s.n : 0;
        if (n >= sizeof cur - 16) {
            r->errors++;
            continue;
        }
        memcpy(cur, v.type == FOLIO_TEXT ? v.u.s.p : "", n);
        if (!o->append) {
            o->nseen = parse_list(cur, n, &o->seen);
            continue;
        }
        n += (size_t)snprintf(cur + n, sizeof cur - n, "%s%d", n ? "," : "", rec->id * 8 + i);
        folio_value row[2] = {{.type = FOLIO_INTEGER, .u.i = o->key},
                              {.type = FOLIO_TEXT, .u.s = {cur, n}}};
        folio_cursor_close(c);
        int rc = folio_update(tab, o->key, row, 2);
        if (folio_cursor_open(&c, tab, NULL) != FOLIO_OK || rc != FOLIO_OK) {
            r->errors++;
            folio_rollback(t);
            return;
        }
    }
    folio_cursor_close(c);
    int rc = folio_commit(t);
    rec->committed = rc == FOLIO_OK;
    if (rc != FOLIO_OK && rc != FOLIO_CONFLICT) {
        snprintf(r->err, sizeof r->err, "commit: %d", rc);
        r->errors++;
    }
}

static void *work(void *arg)
{
    worker *w = arg;
    unsigned rs = w->r->seed * 7919u + (unsigned)w->t;
    for (int i = 0; i < NTXNS; i++)
        one_txn(w->r, &w->r->txns[w->t * NTXNS + i], &rs);
    return NULL;
}

/* ---- the offline check ---- */

typedef struct graph {
    int n;
    unsigned char *adj; /* n x n: bit 1 ww/wr, bit 2 rw */
} graph;

static void edge(graph *g, int from, int to, int kind)
{
    if (from && to && from != to)
        g->adj[(size_t)from * (size_t)g->n + (size_t)to] |= (unsigned char)kind;
}

/* A cycle over edges whose kind is in `mask` (iterative DFS, colours). */
static int has_cycle(const graph *g, int mask, int *at)
{
    int n = g->n;
    char *col = calloc((size_t)n, 1);
    int *stack = malloc(sizeof *stack * (size_t)n), *next = calloc((size_t)n, sizeof *next);
    int found = 0;
    for (int s = 1; s < n && !found; s++) {
        if (col[s])
            continue;
        int sp = 0;
        stack[sp++] = s;
        col[s] = 1;
        while (sp && !found) {
            int u = stack[sp - 1];
            int v = next[u]++;
            if (v >= n) {
                col[u] = 2;
                sp--;
                continue;
            }
            if (!(g->adj[(size_t)u * (size_t)n + (size_t)v] & mask))
                continue;
            if (col[v] == 1) {
                found = 1;
                *at = v;
            } else if (!col[v]) {
                col[v] = 1;
                stack[sp++] = v;
            }
        }
    }
    free(col);
    free(stack);
    free(next);
    return found;
}

static void check_history(run *r, int serializable)
{
    int nt = NTHREADS * NTXNS;
    /* The final lists, as libsqlite3 reads the file. */
    sqlite3 *s;
    cr_assert_eq(sqlite3_open_v2(g_path, &s, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(s, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "ok");
    sqlite3_finalize(st);
    int *final[NKEYS + 1], nfinal[NKEYS + 1];
    cr_assert_eq(sqlite3_prepare_v2(s, "SELECT k, v FROM lists ORDER BY k", -1, &st, NULL),
                 SQLITE_OK);
    int k = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        k = sqlite3_column_int(st, 0);
        cr_assert(k >= 1 && k <= NKEYS);
        const char *v = (const char *)sqlite3_column_text(st, 1);
        nfinal[k] = parse_list(v ? v : "", v ? strlen(v) : 0, &final[k]);
    }
    sqlite3_finalize(st);
    sqlite3_close(s);
    cr_assert_eq(k, NKEYS);
    /* Where each value is in its key's list; appender of each position. */
    int *pos = calloc((size_t)MAXVALS * (NKEYS + 1), sizeof *pos); /* 1-based, 0: absent */
    for (int key = 1; key <= NKEYS; key++)
        for (int i = 0; i < nfinal[key]; i++) {
            int v = final[key][i];
            cr_assert(v >= 8 && v < MAXVALS, "seed %u: key %d holds %d", r->seed, key, v);
            cr_assert_eq(pos[(size_t)v * (NKEYS + 1) + (size_t)key], 0,
                         "seed %u: key %d holds %d twice", r->seed, key, v);
            pos[(size_t)v * (NKEYS + 1) + (size_t)key] = i + 1;
        }
    graph g = {nt + 1, calloc((size_t)(nt + 1) * (size_t)(nt + 1), 1)};
    int committed = 0, reads = 0;
    for (int i = 0; i < nt; i++) {
        txn_rec *t = &r->txns[i];
        committed += t->committed;
        for (int j = 0; j < t->nops; j++) {
            op *o = &t->ops[j];
            int p = pos[(size_t)(t->id * 8 + j) * (NKEYS + 1) + (size_t)o->key];
            if (o->append) {
                /* Committed: there once; not: nowhere (G1a). */
                cr_assert(t->committed ? p > 0 : p == 0, "seed %u: txn %d (%s) append to key %d %s",
                          r->seed, t->id, t->committed ? "committed" : "failed", o->key,
                          t->committed ? "is lost" : "is visible");
                continue;
            }
            if (!t->committed)
                continue;
            reads++;
            /* A prefix of the final list (minus its own later appends: a
             * read of its own earlier append is in its prefix too). */
            cr_assert(o->nseen <= nfinal[o->key], "seed %u: txn %d read %d elements of key %d",
                      r->seed, t->id, o->nseen, o->key);
            for (int e = 0; e < o->nseen; e++)
                cr_assert_eq(o->seen[e], final[o->key][e],
                             "seed %u: txn %d read key %d: not a prefix of its final list", r->seed,
                             t->id, o->key);
            /* wr: the appender of the last seen element; rw: of the next. */
            if (o->nseen)
                edge(&g, o->seen[o->nseen - 1] / 8, t->id, 1);
            if (o->nseen < nfinal[o->key])
                edge(&g, t->id, final[o->key][o->nseen] / 8, 2);
        }
    }
    for (int key = 1; key <= NKEYS; key++)
        for (int i = 0; i + 1 < nfinal[key]; i++)
            edge(&g, final[key][i] / 8, final[key][i + 1] / 8, 1);
    int at = 0;
    cr_assert(!has_cycle(&g, 1, &at), "seed %u: a cycle of ww/wr dependencies (G0/G1c) at txn %d",
              r->seed, at);
    if (serializable)
        cr_assert(!has_cycle(&g, 3, &at),
                  "seed %u: a dependency cycle with anti-dependencies (G2) at txn %d under "
                  "SERIALIZABLE",
                  r->seed, at);
    printf("history: %d of %d transactions committed, %d reads checked, %s\n", committed, nt, reads,
           serializable ? "serializable" : "snapshot isolation");
    cr_assert_gt(committed, nt / 10, "seed %u: too few commits to say anything", r->seed);
    for (int key = 1; key <= NKEYS; key++)
        free(final[key]);
    free(pos);
    free(g.adj);
    for (int i = 0; i < nt; i++)
        for (int j = 0; j < r->txns[i].nops; j++)
            free(r->txns[i].ops[j].seen);
}

static void run_history(unsigned flags, int serializable)
{
    unsigned seed = (unsigned)time(NULL);
    if (getenv("FOLIO_SEED"))
        seed = (unsigned)strtoul(getenv("FOLIO_SEED"), NULL, 10);
    printf("history: seed %u (FOLIO_SEED)\n", seed);
    fflush(stdout);
    const char *base = getenv("FOLIO_TMP");
    snprintf(g_dir, sizeof g_dir, "%s/hist-XXXXXX", base && *base ? base : "/tmp");
    cr_assert(mkdtemp(g_dir));
    snprintf(g_path, sizeof g_path, "%s/h.db", g_dir);
    folio_options o = FOLIO_OPTIONS_INIT;
    o.busy_timeout_ms = 20000;
    run r = {0};
    r.flags = flags;
    r.seed = seed;
    cr_assert_eq(folio_open(&r.db, g_path, &o), FOLIO_OK);
    folio_txn *t;
    folio_table *tab;
    cr_assert_eq(folio_begin(&t, r.db, FOLIO_TXN_WRITE), FOLIO_OK);
    cr_assert_eq(folio_exec(t, "CREATE TABLE lists(k INTEGER PRIMARY KEY, v TEXT)"), FOLIO_OK);
    cr_assert_eq(folio_table_open(&tab, t, "lists"), FOLIO_OK);
    for (int key = 1; key <= NKEYS; key++) {
        folio_value row[2] = {{.type = FOLIO_INTEGER, .u.i = key}, {.type = FOLIO_TEXT}};
        row[1].u.s.p = "";
        row[1].u.s.n = 0;
        cr_assert_eq(folio_insert(NULL, tab, row, 2), FOLIO_OK);
    }
    cr_assert_eq(folio_commit(t), FOLIO_OK);
    r.txns = calloc(NTHREADS * NTXNS, sizeof *r.txns);
    for (int i = 0; i < NTHREADS * NTXNS; i++)
        r.txns[i].id = i + 1;
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (worker){&r, i};
        pthread_create(&th[i], NULL, work, &w[i]);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    cr_assert_eq(r.errors, 0, "seed %u: %d calls failed otherwise than by a conflict (%s)", seed,
                 r.errors, r.err);
    cr_assert_eq(folio_close(r.db), FOLIO_OK);
    check_history(&r, serializable);
    free(r.txns);
    char p[700];
    snprintf(p, sizeof p, "%s-wal", g_path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", g_path);
    unlink(p);
    unlink(g_path);
    rmdir(g_dir);
}

Test(conc_history, snapshot_isolation_has_no_g0_g1, .timeout = 300)
{
    run_history(FOLIO_TXN_CONCURRENT, 0);
}

Test(conc_history, serializable_has_no_cycle, .timeout = 300)
{
    run_history(FOLIO_TXN_SERIALIZABLE, 1);
}
