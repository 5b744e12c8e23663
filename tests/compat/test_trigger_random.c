/*
 * test_trigger_random.c - SQLite triggers run by folio exactly as libsqlite3
 * runs them: a randomized differential test (the cases are test_trigger.c).
 *
 * Each round makes a schema of 3-5 tables (rowid, INTEGER PRIMARY KEY and
 * WITHOUT ROWID; UNIQUE, CHECK, NOT NULL, defaults, foreign keys with random
 * actions) and 4-12 random triggers from the subset folio runs (BEFORE and
 * AFTER; INSERT, UPDATE, UPDATE OF, DELETE; WHEN; NEW and OLD everywhere;
 * bodies of 1-3 INSERT VALUES / INSERT SELECT / UPDATE / DELETE / SELECT
 * RAISE statements with conflict clauses, subqueries and aggregates, UPSERTs
 * whose targets name a key, a UNIQUE column or a table's extra UNIQUE index
 * on expressions or partial index; cascades
 * between tables and several triggers on one table), built by libsqlite3 in
 * one file that is copied twice (or, in some rounds, the triggers made
 * through folio_exec); then random calls (insert, update, patch, delete,
 * upsert, delete_where, update_where; the WITHOUT ROWID forms) in
 * transactions that commit or roll back, through folio on one copy and as SQL
 * on the other, compared by tests/support/trig_pair (the same outcome class,
 * SQLite's message, the same files after every transaction, integrity_check
 * and folio_check at the end). Foreign keys are on in some rounds,
 * recursive_triggers in others.
 *
 * Its features can be switched off one by one (the table `features` below,
 * or FOLIO_TRIGGER_OFF=name,name...; all are on but self_read, which
 * FOLIO_TRIGGER_ON=self_read turns on). seed=N is printed;
 * FOLIO_SEED=N replays a run, FOLIO_TRIGGER_ROUND=R only its round R (rounds draw from the seed and
 * their number alone); FOLIO_SOAK=1 runs ten times the rounds; TRIGDEBUG=1 prints every schema and
 * call; TRIGREF=1 puts libsqlite3 in folio's place (a check of the test itself).
 */
#include "compat.h"
#include "trig_pair.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The random test ----------------------------------------------------------- */

/* What the generator makes; each can be switched off here or with
 * FOLIO_TRIGGER_OFF=name,name (e.g. while a part of triggers has not
 * landed). */
enum {
    F_TRIGGERS,      /* triggers at all (off: the same rounds on plain tables) */
    F_BEFORE,        /* BEFORE triggers (else AFTER only) */
    F_UPDATE_OF,     /* UPDATE OF col, ... */
    F_WHEN,          /* WHEN clauses */
    F_RAISE,         /* SELECT RAISE(IGNORE / ABORT / FAIL [/ ROLLBACK]) ... WHERE */
    F_ROLLBACK,      /* RAISE(ROLLBACK) and OR ROLLBACK: the transaction ends */
    F_CONFLICT,      /* OR IGNORE / ABORT / FAIL in bodies */
    F_REPLACE,       /* OR REPLACE in bodies */
    F_INSERT_SELECT, /* INSERT INTO t SELECT ... FROM one_table */
    F_MULTI_VALUES,  /* INSERT ... VALUES (...), (...) */
    F_SUBQUERY,      /* scalar subqueries, EXISTS, IN (SELECT ...) */
    F_AGGREGATE,     /* count/sum/total/avg/min/max/group_concat in subqueries */
    F_SELF_READ,     /* subqueries in a body's UPDATE or DELETE that read the table it
                        writes: SQLite's result then depends on its plan (an uncorrelated
                        subquery is mostly evaluated once per statement, but not always:
                        see the case subquery_over_the_updated_table) - off by default */
    F_OWN_BEFORE,    /* BEFORE UPDATE/DELETE bodies that write their own table (SQLite
                        documents the outcome as undefined; its 3.40 behaviour is the reference) */
    F_RECURSIVE,     /* rounds with recursive_triggers on */
    F_FOREIGN_KEYS,  /* rounds with foreign keys (and their actions) on */
    F_WITHOUT_ROWID, /* WITHOUT ROWID tables */
    F_UPSERT,        /* folio_upsert calls */
    F_WHERE_CALLS,   /* folio_delete_where / folio_update_where calls */
    F_EXEC_CREATE,   /* rounds whose triggers are made through folio_exec */
    F_BODY_UPSERT,   /* INSERT ... ON CONFLICT DO NOTHING / DO UPDATE in bodies */
    F_INDEX_TARGET,  /* a UNIQUE index on expressions or a partial one, and UPSERT targets
                        that name it */
    NFEATURES
};

static struct {
    const char *name;
    int on;
} features[NFEATURES] = {
    [F_TRIGGERS] = {"triggers", 1},
    [F_BEFORE] = {"before", 1},
    [F_UPDATE_OF] = {"update_of", 1},
    [F_WHEN] = {"when", 1},
    [F_RAISE] = {"raise", 1},
    [F_ROLLBACK] = {"rollback", 1},
    [F_CONFLICT] = {"conflict", 1},
    [F_REPLACE] = {"or_replace", 1},
    [F_INSERT_SELECT] = {"insert_select", 1},
    [F_MULTI_VALUES] = {"multi_values", 1},
    [F_SUBQUERY] = {"subquery", 1},
    [F_AGGREGATE] = {"aggregate", 1},
    [F_SELF_READ] = {"self_read", 0},
    [F_OWN_BEFORE] = {"own_before", 1},
    [F_RECURSIVE] = {"recursive_triggers", 1},
    [F_FOREIGN_KEYS] = {"foreign_keys", 1},
    [F_WITHOUT_ROWID] = {"without_rowid", 1},
    [F_UPSERT] = {"upsert", 1},
    [F_WHERE_CALLS] = {"where_calls", 1},
    [F_EXEC_CREATE] = {"exec_create", 1},
    [F_BODY_UPSERT] = {"body_upsert", 1},
    [F_INDEX_TARGET] = {"index_target", 1},
};
#define ON(f) (features[f].on)

/* FOLIO_TRIGGER_OFF=a,b switches features off, FOLIO_TRIGGER_ON=c on. */
static void features_env(const char *var, int on)
{
    const char *list = getenv(var);
    if (!list || !*list)
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        int found = 0;
        for (int f = 0; f < NFEATURES; f++)
            if (strcmp(features[f].name, tok) == 0) {
                features[f].on = on;
                found = 1;
            }
        cr_assert(found, "%s: no feature '%s'", var, tok);
    }
}

static void features_from_env(void)
{
    features_env("FOLIO_TRIGGER_OFF", 0);
    features_env("FOLIO_TRIGGER_ON", 1);
}

/* The schema of a round, as the generator knows it. */
typedef struct gcol {
    char name[4];
    int type; /* 0 INT, 1 TEXT, 2 none */
    int key;  /* part of the primary key */
    int uniq; /* has a UNIQUE index of its own */
    int xcov; /* a key of the table's extra index (gtab.xidx) */
} gcol;

typedef struct gtab {
    char name[4];
    int kind; /* 0 rowid, 1 INTEGER PRIMARY KEY, 2 WITHOUT ROWID */
    int ncols;
    gcol cols[6];
    int xidx; /* an extra UNIQUE index (X_*) */
} gtab;

/* The extra UNIQUE index of a table (F_INDEX_TARGET), and how an UPSERT
 * target names it (spelt in one of the ways SQLite takes for the same
 * expression). */
enum { X_NONE, X_LOWER, X_PARTIAL, X_MIXED, X_NKINDS };
static const char *const xidx_sql[X_NKINDS] = {"", "lower(c)", "a) WHERE b > 0",
                                               "b, lower(c) COLLATE nocase"};
static const char *const xidx_target[X_NKINDS][2] = {
    {"", ""},
    {"lower(c)", "LOWER( \"c\" ) ASC"},
    {"a) WHERE b > 0", "a) WHERE b>0"},
    {"lower(c) COLLATE NOCASE, b", "b, lower(c) collate nocase"}};

#define MAX_TRIGGERS 12

typedef struct gschema {
    int ntab;
    gtab t[5];
    char table_sql[5][512];
    int ntrig;
    char trig[MAX_TRIGGERS][4096];
} gschema;

typedef struct gen {
    uint64_t rng;
    gschema *s;
    /* F_INDEX_TARGET draws from a stream of its own: a round's other
     * draws stay what they were before it came. */
    uint64_t xrng;
} gen;

static int below(gen *g, int n)
{
    return (int)compat_below(&g->rng, (uint64_t)n);
}

static int chance(gen *g, int pct)
{
    return below(g, 100) < pct;
}

/* A bounded string. */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static void put(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    cr_assert(k >= 0 && b->n + (size_t)k < b->cap, "generated SQL too long: %s", b->p);
    b->n += (size_t)k;
}

static const char *const letters[] = {"a", "b", "c", "d", "e", "f"};

/* ---- Tables ---- */

static void add_col(gtab *t, const char *name, int type, int key)
{
    gcol *c = &t->cols[t->ncols++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->type = type;
    c->key = key;
    c->uniq = 0;
    c->xcov = 0;
}

static void gen_table(gen *g, int i)
{
    gschema *s = g->s;
    gtab *t = &s->t[i];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "t%d", i);
    t->kind = below(g, ON(F_WITHOUT_ROWID) ? 3 : 2);
    buf b = {s->table_sql[i], 0, sizeof s->table_sql[i]};
    put(&b, "CREATE TABLE %s(", t->name);
    int npk = 0;
    if (t->kind == 1) {
        add_col(t, "id", 0, 1);
        put(&b, "id INTEGER PRIMARY KEY, ");
    } else if (t->kind == 2) {
        add_col(t, "k", 0, 1);
        put(&b, "k INT, ");
        npk = 1;
        if (chance(g, 30)) {
            add_col(t, "n", 0, 1);
            put(&b, "n INT, ");
            npk = 2;
        }
    }
    int first_data = t->ncols;
    add_col(t, "a", 0, 0);
    add_col(t, "b", 0, 0);
    add_col(t, "c", 1, 0);
    if (chance(g, 50))
        add_col(t, "d", 2, 0);
    int uniq = below(g, 6); /* a, c or none */
    for (int c = first_data; c < t->ncols; c++) {
        gcol *col = &t->cols[c];
        put(&b, "%s%s%s", c > first_data ? ", " : "", col->name,
            col->type == 0   ? " INT"
            : col->type == 1 ? " TEXT"
                             : "");
        if (chance(g, 12)) {
            put(&b, " NOT NULL");
            if (chance(g, 60))
                put(&b, " DEFAULT %s", col->type == 1 ? "'z'" : "0");
        } else if (chance(g, 25)) {
            static const char *const defs[] = {"0", "'x'", "(1 + 2)", "NULL", "-1"};
            put(&b, " DEFAULT %s", defs[below(g, 5)]);
        }
        if (chance(g, 12)) {
            static const char *const checks[] = {"a <> 8", "b IS NULL OR b >= 0", "length(c) < 4",
                                                 "d IS NOT 9"};
            put(&b, " CHECK(%s)", checks[col->name[0] - 'a']);
        }
        if ((uniq == 0 && col->name[0] == 'a') || (uniq == 1 && col->name[0] == 'c')) {
            put(&b, " UNIQUE");
            col->uniq = 1;
        }
        if (col->name[0] == 'b' && ON(F_FOREIGN_KEYS) && i > 0 && chance(g, 50)) {
            /* A parent keyed by its INTEGER PRIMARY KEY or a one-column key. */
            int j = below(g, i);
            const gtab *pt = &s->t[j];
            if (pt->kind == 1 || (pt->kind == 2 && !pt->cols[1].key)) {
                static const char *const acts[] = {"NO ACTION", "RESTRICT", "SET NULL",
                                                   "SET DEFAULT", "CASCADE"};
                put(&b, " REFERENCES %s ON DELETE %s ON UPDATE %s%s", pt->name, acts[below(g, 5)],
                    acts[below(g, 5)], chance(g, 15) ? " DEFERRABLE INITIALLY DEFERRED" : "");
            }
        }
    }
    if (t->kind == 2)
        put(&b, ", PRIMARY KEY(k%s)) WITHOUT ROWID", npk == 2 ? ", n" : "");
    else
        put(&b, ")");
    if (ON(F_INDEX_TARGET) && compat_below(&g->xrng, 2) == 0) {
        int x = 1 + (int)compat_below(&g->xrng, X_NKINDS - 1), plain = 0;
        /* (its columns are left out of scans whose order SQLite's plan
         * would decide, as UNIQUE columns are: one must stay out of it) */
        for (int c = 0; c < t->ncols; c++) {
            gcol *col = &t->cols[c];
            col->xcov = col->name[0] == 'c'   ? x != X_PARTIAL
                        : col->name[0] == 'a' ? x == X_PARTIAL
                        : col->name[0] == 'b' ? x == X_MIXED
                                              : 0;
            plain += !col->key && !col->uniq && !col->xcov;
        }
        if (plain) {
            t->xidx = x;
            put(&b, "; CREATE UNIQUE INDEX %s_x ON %s(%s%s", t->name, t->name, xidx_sql[x],
                x == X_PARTIAL ? "" : ")");
        } else {
            for (int c = 0; c < t->ncols; c++)
                t->cols[c].xcov = 0;
        }
    }
}

/* A column that no index covers alone: scans that name it read the table in
 * rowid (key) order in SQLite, whatever its planner picks. */
static const gcol *plain_col(gen *g, const gtab *t)
{
    for (;;) {
        const gcol *c = &t->cols[below(g, t->ncols)];
        if (!c->key && !c->uniq && !c->xcov)
            return c;
    }
}

/* ---- Expressions ---- */

typedef struct ectx {
    const gtab *trig; /* NEW / OLD are rows of this table */
    int has_new, has_old;
    const gtab *from; /* the statement's table: its columns are named bare */
    int depth;
    int no_null;        /* no NULL literal (an operand of = or <) */
    const gtab *writes; /* the table an UPDATE or DELETE writes: subqueries read
                           others unless F_SELF_READ */
} ectx;

/* A table for a subquery to read. */
static const gtab *sub_table(gen *g, const ectx *e)
{
    for (;;) {
        const gtab *k = &g->s->t[below(g, g->s->ntab)];
        if (k != e->writes || ON(F_SELF_READ))
            return k;
    }
}

static void gen_val(gen *g, buf *b, const ectx *e);
static void gen_cond(gen *g, buf *b, const ectx *e);

static void rowref(gen *g, buf *b, const ectx *e)
{
    const char *which = e->has_new && (!e->has_old || chance(g, 50)) ? "NEW" : "OLD";
    const gtab *t = e->trig;
    if (t->kind != 2 && chance(g, 8))
        put(b, "%s.rowid", which);
    else
        put(b, "%s.%s", which, t->cols[below(g, t->ncols)].name);
}

/* A bare column, with a unary + so that SQLite uses no index for it (the
 * order rows are visited in is then the table's, in both engines). */
static void bareref(gen *g, buf *b, const ectx *e)
{
    put(b, "+%s", e->from->cols[below(g, e->from->ncols)].name);
}

static void subquery(gen *g, buf *b, const ectx *e)
{
    const gtab *k = sub_table(g, e);
    ectx in = *e;
    in.from = k;
    in.depth++;
    int agg = ON(F_AGGREGATE) && (!ON(F_SUBQUERY) || chance(g, 50));
    if (agg) {
        static const char *const fns[] = {"count", "sum", "total",       "avg",
                                          "min",   "max", "group_concat"};
        int f = below(g, 8);
        if (f == 7)
            put(b, "(SELECT count(*) FROM %s", k->name);
        else
            put(b, "(SELECT %s(%s) FROM %s", fns[f], plain_col(g, k)->name, k->name);
        if (chance(g, 60)) {
            put(b, " WHERE ");
            gen_cond(g, b, &in);
        }
    } else {
        put(b, "(SELECT %s FROM %s WHERE ", plain_col(g, k)->name, k->name);
        gen_cond(g, b, &in);
    }
    put(b, ")");
}

static void gen_val(gen *g, buf *b, const ectx *e)
{
    int r = below(g, 100);
    if (e->depth >= 2 && r >= 72)
        r = below(g, 72);
    if (r < 18 || (r < 21 && e->no_null)) {
        put(b, "%d", below(g, 10));
    } else if (r < 21) {
        put(b, "NULL");
    } else if (r < 26) {
        put(b, "'%s'", letters[below(g, 6)]);
    } else if (r < 56 || (r < 72 && !e->from)) {
        if (e->has_new || e->has_old)
            rowref(g, b, e);
        else
            put(b, "%d", below(g, 10));
    } else if (r < 72) {
        bareref(g, b, e);
    } else if (r < 80) {
        static const char *const ops[] = {"+ 1", "- 1", "* 2", "|| 'x'"};
        put(b, "(");
        ectx in = *e;
        in.depth++;
        gen_val(g, b, &in);
        put(b, " %s)", ops[below(g, 4)]);
    } else if (r < 85) {
        ectx in = *e;
        in.depth++;
        put(b, "coalesce(");
        gen_val(g, b, &in);
        put(b, ", %d)", below(g, 10));
    } else if (ON(F_SUBQUERY) || ON(F_AGGREGATE)) {
        subquery(g, b, e);
    } else {
        put(b, "%d", below(g, 10));
    }
}

static void gen_cond(gen *g, buf *b, const ectx *e)
{
    int r = below(g, 100);
    ectx in = *e;
    in.depth++;
    if (e->depth >= 2 && r >= 60)
        r = below(g, 60);
    if (r < 50) {
        /* A row's value against a value. */
        static const char *const cmp[] = {"=", "<>", "<", "<=", ">", ">=", "IS", "IS NOT"};
        int op = below(g, 8);
        in.no_null = op < 6;
        if (e->from && (!(e->has_new || e->has_old) || chance(g, 50)))
            bareref(g, b, e);
        else if (e->has_new || e->has_old)
            rowref(g, b, e);
        else
            gen_val(g, b, &in);
        put(b, " %s ", cmp[op]);
        gen_val(g, b, &in);
    } else if (r < 60) {
        gen_val(g, b, &in);
        put(b, chance(g, 50) ? " IS NULL" : " IS NOT NULL");
    } else if (r < 66) {
        in.no_null = 1;
        gen_val(g, b, &in);
        put(b, " IN (%d, %d, '%s')", below(g, 10), below(g, 10), letters[below(g, 6)]);
    } else if (r < 74 && ON(F_SUBQUERY)) {
        const gtab *k = sub_table(g, e);
        ectx sub = in;
        sub.from = k;
        put(b, "%sEXISTS (SELECT 1 FROM %s WHERE ", chance(g, 30) ? "NOT " : "", k->name);
        gen_cond(g, b, &sub);
        put(b, ")");
    } else if (r < 82 && ON(F_SUBQUERY)) {
        const gtab *k = sub_table(g, e);
        ectx sub = in;
        sub.from = k;
        gen_val(g, b, &in);
        put(b, " IN (SELECT %s FROM %s", k->cols[below(g, k->ncols)].name, k->name);
        if (chance(g, 60)) {
            put(b, " WHERE ");
            gen_cond(g, b, &sub);
        }
        put(b, ")");
    } else if (r < 94) {
        put(b, "(");
        gen_cond(g, b, &in);
        put(b, chance(g, 50) ? " AND " : " OR ");
        gen_cond(g, b, &in);
        put(b, ")");
    } else {
        put(b, "NOT (");
        gen_cond(g, b, &in);
        put(b, ")");
    }
}

/* ---- Triggers ---- */

static const char *conflict_clause(gen *g)
{
    if (!ON(F_CONFLICT) || !chance(g, 35))
        return "";
    int r = below(g, 100);
    if (r < 30)
        return "OR IGNORE ";
    if (r < 60)
        return ON(F_REPLACE) ? "OR REPLACE " : "OR IGNORE ";
    if (r < 77)
        return "OR ABORT ";
    if (r < 95 || !ON(F_ROLLBACK))
        return "OR FAIL ";
    return "OR ROLLBACK ";
}

/* A table a body may write: not its own table in BEFORE UPDATE/DELETE
 * triggers unless F_OWN_BEFORE. */
static const gtab *target(gen *g, const gtab *own, int avoid_own)
{
    for (;;) {
        const gtab *t = &g->s->t[below(g, g->s->ntab)];
        if (!avoid_own || t != own)
            return t;
    }
}

/* The WHERE of a body's UPDATE or DELETE: often rows that share a value
 * with NEW or OLD (so that triggers find rows), else any condition. */
static void body_where(gen *g, buf *b, const ectx *in)
{
    put(b, " WHERE ");
    if (chance(g, 40)) {
        put(b, "+%s %s ", in->from->cols[below(g, in->from->ncols)].name,
            chance(g, 75) ? "=" : "<=");
        rowref(g, b, in);
    } else {
        gen_cond(g, b, in);
    }
}

/* ON CONFLICT clauses after a body's INSERT into t: targets that name its
 * primary key or a UNIQUE column, maybe a last clause without one; DO
 * NOTHING, or DO UPDATE SET of the row in the way (bare names) from
 * excluded.x, NEW and OLD, with a WHERE sometimes. */
static void gen_upsert(gen *g, buf *b, const gtab *t, const ectx *base)
{
    int targets[8], nt = 0;
    if (t->kind != 0)
        targets[nt++] = -1; /* the primary key */
    for (int c = 0; c < t->ncols && nt < 8; c++)
        if (t->cols[c].uniq)
            targets[nt++] = c;
    if (t->xidx)
        targets[nt++] = -3;              /* the extra index */
    int n = nt && chance(g, 30) ? 2 : 1; /* (only the last may have no target) */
    ectx in = *base;
    in.from = t;
    in.writes = t;
    int prev = -2;
    for (int k = 0; k < n; k++) {
        put(b, " ON CONFLICT");
        int last = k == n - 1;
        int x = nt ? targets[below(g, nt)] : -2;
        if (x == prev) /* SQLite 3.40.1 skips the rowid check after a repeated target
                          (its "isDup" clause) and overwrites the row: never twice */
            x = -2;
        prev = x;
        if (x != -2 && !(last && chance(g, 25))) {
            put(b, "(");
            int closed = 0;
            if (x == -3) { /* (the partial index's target closes itself, then its WHERE) */
                put(b, "%s", xidx_target[t->xidx][compat_below(&g->xrng, 2)]);
                closed = t->xidx == X_PARTIAL;
            } else if (x >= 0) {
                put(b, "%s", t->cols[x].name);
            } else {
                int first = 1;
                for (int c = t->ncols - 1; c >= 0; c--) /* (any order names the key) */
                    if (t->cols[c].key) {
                        put(b, "%s%s", first ? "" : ", ", t->cols[c].name);
                        first = 0;
                    }
            }
            if (!closed)
                put(b, ")");
        }
        if (chance(g, 35)) {
            put(b, " DO NOTHING");
            continue;
        }
        int c0 = below(g, t->ncols), c1 = (c0 + 1) % t->ncols;
        put(b, " DO UPDATE SET %s = ", t->cols[c0].name);
        if (chance(g, 50))
            put(b, "excluded.%s", t->cols[below(g, t->ncols)].name);
        else
            gen_val(g, b, &in);
        if (chance(g, 40)) {
            put(b, ", %s = ", t->cols[c1].name);
            gen_val(g, b, &in);
        }
        if (chance(g, 30)) {
            put(b, " WHERE ");
            gen_cond(g, b, &in);
        }
    }
}

static void gen_stmt(gen *g, buf *b, int trig_no, const ectx *base, int avoid_own)
{
    int r = below(g, 100);
    if (r >= 80 && !ON(F_RAISE))
        r = below(g, 80);
    if (r >= 28 && r < 40 && !ON(F_INSERT_SELECT))
        r = below(g, 28);
    if (r < 40) { /* INSERT */
        const gtab *t = target(g, base->trig, avoid_own);
        put(b, "INSERT %sINTO %s", conflict_clause(g), t->name);
        int cols[6], n = t->ncols;
        for (int c = 0; c < t->ncols; c++)
            cols[c] = c;
        if (chance(g, 50)) { /* a column list: some columns, in any order */
            for (int c = t->ncols - 1; c > 0; c--) {
                int j = below(g, c + 1), x = cols[c];
                cols[c] = cols[j];
                cols[j] = x;
            }
            n = 1 + below(g, t->ncols);
            put(b, "(");
            for (int c = 0; c < n; c++)
                put(b, "%s%s", c ? ", " : "", t->cols[cols[c]].name);
            put(b, ")");
        }
        if (r < 28) {
            int rows = ON(F_MULTI_VALUES) && chance(g, 30) ? 2 : 1;
            put(b, " VALUES");
            for (int row = 0; row < rows; row++) {
                put(b, "%s(", row ? ", " : "");
                for (int c = 0; c < n; c++) {
                    if (c)
                        put(b, ", ");
                    if (t->cols[cols[c]].key && t->kind == 1 && chance(g, 40))
                        put(b, "NULL"); /* an automatic rowid */
                    else
                        gen_val(g, b, base);
                }
                put(b, ")");
            }
            if (ON(F_BODY_UPSERT) && chance(g, 25))
                gen_upsert(g, b, t, base);
        } else {
            /* INSERT ... SELECT: one value names a column no index covers. */
            const gtab *k = &g->s->t[below(g, g->s->ntab)];
            ectx in = *base;
            in.from = k;
            int plain = below(g, n);
            put(b, " SELECT ");
            for (int c = 0; c < n; c++) {
                if (c)
                    put(b, ", ");
                if (c == plain)
                    put(b, "%s", plain_col(g, k)->name);
                else
                    gen_val(g, b, &in);
            }
            put(b, " FROM %s", k->name);
            if (k == t || chance(g, 75)) {
                put(b, " WHERE ");
                gen_cond(g, b, &in);
                if (ON(F_BODY_UPSERT) && chance(g, 25)) /* (after a WHERE: see SQLite's doc) */
                    gen_upsert(g, b, t, base);
            }
        }
    } else if (r < 62) { /* UPDATE */
        const gtab *t = target(g, base->trig, avoid_own);
        ectx in = *base;
        in.from = t;
        in.writes = t;
        put(b, "UPDATE %s%s SET ", conflict_clause(g), t->name);
        int nset = 1 + below(g, 2), c0 = below(g, t->ncols), c1 = (c0 + 1) % t->ncols;
        put(b, "%s = ", t->cols[c0].name);
        gen_val(g, b, &in);
        if (nset == 2) {
            put(b, ", %s = ", t->cols[c1].name);
            gen_val(g, b, &in);
        }
        if (chance(g, 90))
            body_where(g, b, &in);
    } else if (r < 80) { /* DELETE */
        const gtab *t = target(g, base->trig, avoid_own);
        ectx in = *base;
        in.from = t;
        in.writes = t;
        put(b, "DELETE FROM %s", t->name);
        if (chance(g, 90))
            body_where(g, b, &in);
    } else { /* RAISE */
        int k = below(g, 100);
        const char *kind = k < 30 ? "IGNORE" : k < 62 ? "ABORT" : k < 88 ? "FAIL" : "ROLLBACK";
        if (!ON(F_ROLLBACK) && kind[0] == 'R')
            kind = "ABORT";
        if (kind[0] == 'I')
            put(b, "SELECT RAISE(IGNORE)");
        else
            put(b, "SELECT RAISE(%s, '%s in tr%d')", kind,
                kind[0] == 'A'   ? "abort"
                : kind[0] == 'F' ? "fail"
                                 : "rollback",
                trig_no);
        ectx in = *base;
        if (chance(g, 30)) {
            in.from = &g->s->t[below(g, g->s->ntab)];
            put(b, " FROM %s", in.from->name);
        }
        put(b, " WHERE ");
        gen_cond(g, b, &in);
    }
}

static void gen_trigger(gen *g, int no)
{
    gschema *s = g->s;
    buf b = {s->trig[no], 0, sizeof s->trig[no]};
    const gtab *t = &s->t[below(g, s->ntab)];
    int before = ON(F_BEFORE) && chance(g, 40);
    int r = below(g, 100);
    int ev = r < 35 ? 0 : r < 65 ? 1 : r < 80 ? 2 : 3; /* INSERT, UPDATE, UPDATE OF, DELETE */
    if (ev == 2 && !ON(F_UPDATE_OF))
        ev = 1;
    ectx e = {.trig = t, .has_new = ev != 3, .has_old = ev != 0};
    put(&b, "CREATE TRIGGER tr%d %s ", no, before ? "BEFORE" : "AFTER");
    if (ev == 0)
        put(&b, "INSERT");
    else if (ev == 1)
        put(&b, "UPDATE");
    else if (ev == 3)
        put(&b, "DELETE");
    else {
        int c0 = below(g, t->ncols), c1 = below(g, t->ncols);
        put(&b, "UPDATE OF %s", t->cols[c0].name);
        if (c1 != c0)
            put(&b, ", %s", t->cols[c1].name);
    }
    put(&b, " ON %s%s", t->name, chance(g, 30) ? " FOR EACH ROW" : "");
    if (ON(F_WHEN) && chance(g, 40)) {
        put(&b, " WHEN ");
        gen_cond(g, &b, &e);
    }
    put(&b, " BEGIN ");
    int avoid_own = before && ev != 0 && !ON(F_OWN_BEFORE);
    int n = 1 + below(g, 3);
    for (int i = 0; i < n; i++) {
        gen_stmt(g, &b, no, &e, avoid_own);
        put(&b, "; ");
    }
    put(&b, "END");
}

/* ---- Values and calls ---- */

typedef struct vbuf {
    folio_value v[TP_MAX_COLS];
    char text[TP_MAX_COLS][16];
} vbuf;

static void set_text(folio_value *v, char *tb, const char *s)
{
    snprintf(tb, 16, "%s", s);
    v->type = FOLIO_TEXT;
    v->u.s.p = tb;
    v->u.s.n = strlen(tb);
}

static void rand_value(gen *g, const gtab *t, int c, folio_value *v, char *tb)
{
    const gcol *col = &t->cols[c];
    memset(v, 0, sizeof *v);
    int r = below(g, 100);
    if (col->key && t->kind == 1) {
        if (r >= 45) {
            v->type = FOLIO_INTEGER;
            v->u.i = 1 + below(g, 30);
        }
        return;
    }
    if (col->key) {
        v->type = FOLIO_INTEGER;
        v->u.i = strcmp(col->name, "n") == 0 ? below(g, 3) : below(g, 30);
        if (r < 2)
            v->type = FOLIO_NULL;
        return;
    }
    if (col->type == 1 && r < 80) {
        char l[2] = {(char)('a' + below(g, 12)), 0};
        set_text(v, tb, l);
    } else if (r < 8) {
        v->type = FOLIO_NULL;
    } else if (r < 12) {
        char d[4];
        snprintf(d, sizeof d, "%d", below(g, 10));
        set_text(v, tb, d);
    } else if (r < 15) {
        v->type = FOLIO_REAL;
        v->u.r = 2.5;
    } else if (r < 18) {
        set_text(v, tb, "ab");
    } else {
        v->type = FOLIO_INTEGER;
        v->u.i = below(g, 10);
    }
}

static void rand_row(gen *g, const gtab *t, vbuf *vb)
{
    for (int c = 0; c < t->ncols; c++)
        rand_value(g, t, c, &vb->v[c], vb->text[c]);
}

static void literal(buf *b, const folio_value *v)
{
    switch (v->type) {
    case FOLIO_NULL:
        put(b, "NULL");
        break;
    case FOLIO_INTEGER:
        put(b, "%" PRId64, v->u.i);
        break;
    case FOLIO_REAL:
        put(b, "%.17g", v->u.r);
        break;
    default:
        put(b, "'%.*s'", (int)v->u.s.n, (const char *)v->u.s.p);
    }
}

/* A top-level WHERE for folio_delete_where / folio_update_where. */
static void top_where(gen *g, const gtab *t, char *out, size_t cap)
{
    buf b = {out, 0, cap};
    static const char *const cmp[] = {"=", "<>", "<", ">=", "IS", "IS NOT"};
    int n = 1 + below(g, 2);
    for (int i = 0; i < n; i++) {
        if (i)
            put(&b, chance(g, 50) ? " AND " : " OR ");
        const gcol *c = &t->cols[below(g, t->ncols)];
        if (t->kind != 2 && chance(g, 10))
            put(&b, "+rowid %% 3 = %d", below(g, 3));
        else if (chance(g, 15))
            put(&b, "+%s IS NULL", c->name);
        else if (c->type == 1)
            put(&b, "+%s %s '%s'", c->name, cmp[below(g, 6)], letters[below(g, 6)]);
        else
            put(&b, "+%s %s %d", c->name, cmp[below(g, 6)], below(g, 12));
    }
}

typedef struct rstats {
    long calls, classes[TP_NCLASSES], aborts, fails, rollbacks, trigger_changes, txn_ended,
        too_deep, commit_fail, rounds, sqlite_orphans;
} rstats;

/* One random call through both engines. */
static void one_call(gen *g, tp_pair *p, rstats *st)
{
    gschema *s = g->s;
    const gtab *t = &s->t[below(g, s->ntab)];
    int64_t nrows = tp_ref_int(p, "SELECT count(*) FROM %s", t->name);
    vbuf vb;
    rand_row(g, t, &vb);
    int r = below(g, 100), cls;
    if (nrows > 150 && ON(F_WHERE_CALLS))
        r = 200; /* thin it out */
    if (!ON(F_WHERE_CALLS) && r >= 84)
        r = below(g, 84);
    if (!ON(F_UPSERT) && r >= 72 && r < 84)
        r = below(g, 30);
    if (r < 30) {
        cls = tp_insert(p, t->name, vb.v, t->ncols);
    } else if (r < 72 && t->kind == 2) { /* update_key / delete_key */
        tp_vals key;
        char q[160];
        int has = 0;
        if (nrows > 0 && chance(g, 85)) {
            snprintf(q, sizeof q, "SELECT k%s FROM %s ORDER BY 1%s LIMIT 1 OFFSET %d",
                     t->cols[1].key ? ", n" : "", t->name, t->cols[1].key ? ", 2" : "",
                     below(g, (int)nrows));
            has = tp_vals_query(p, &key, q);
        }
        if (!has) {
            key.n = t->cols[1].key ? 2 : 1;
            for (int k = 0; k < key.n; k++)
                rand_value(g, t, k, &key.v[k], key.text[k]);
        }
        if (r < 58) {
            if (chance(g, 50))
                for (int k = 0; k < key.n; k++)
                    vb.v[k] = key.v[k];
            cls = tp_update_key(p, t->name, key.v, key.n, vb.v, t->ncols);
        } else {
            cls = tp_delete_key(p, t->name, key.v, key.n);
        }
    } else if (r < 72) { /* update / patch / delete by rowid */
        int64_t rowid = 1 + below(g, 30);
        if (nrows > 0 && chance(g, 85))
            rowid = tp_ref_int(p, "SELECT rowid FROM %s ORDER BY rowid LIMIT 1 OFFSET %d", t->name,
                               below(g, (int)nrows));
        int ipk = t->kind == 1 ? 0 : -1;
        if (ipk >= 0 && (vb.v[ipk].type == FOLIO_NULL || chance(g, 80))) {
            vb.v[ipk].type = FOLIO_INTEGER; /* (a NULL rowid: SQL's datatype mismatch) */
            vb.v[ipk].u.i = rowid;
        }
        if (r < 44) {
            cls = tp_update(p, t->name, rowid, vb.v, t->ncols);
        } else if (r < 60) {
            int cols[2], vals_n = 1 + below(g, 2);
            folio_value pv[2];
            cols[0] = below(g, t->ncols);
            cols[1] = (cols[0] + 1) % t->ncols;
            for (int i = 0; i < vals_n; i++) {
                pv[i] = vb.v[cols[i]];
                if (cols[i] == ipk && pv[i].type == FOLIO_NULL) {
                    pv[i].type = FOLIO_INTEGER;
                    pv[i].u.i = rowid;
                }
            }
            cls = tp_patch(p, t->name, rowid, cols, pv, vals_n);
        } else {
            cls = tp_delete(p, t->name, rowid);
        }
    } else if (r < 84) { /* upsert (an INTEGER PRIMARY KEY or WITHOUT ROWID) */
        if (t->kind == 0) {
            cls = tp_insert(p, t->name, vb.v, t->ncols);
        } else {
            int64_t rowid = 0;
            if (t->kind == 1) {
                rowid = 1 + below(g, 30);
                vb.v[0].type = FOLIO_INTEGER;
                vb.v[0].u.i = rowid;
            } else if (vb.v[0].type == FOLIO_NULL) {
                vb.v[0].type = FOLIO_INTEGER; /* (a NULL key conflicts with nothing) */
                vb.v[0].u.i = 1;
            }
            if (t->cols[1].key && vb.v[1].type == FOLIO_NULL) {
                vb.v[1].type = FOLIO_INTEGER;
                vb.v[1].u.i = 0;
            }
            cls = tp_upsert(p, t->name, rowid, vb.v, t->ncols);
        }
    } else { /* delete_where / update_where */
        char where[256];
        if (r == 200)
            snprintf(where, sizeof where, "+%s %% 3 <> 0", t->kind == 2 ? "k" : "rowid");
        else
            top_where(g, t, where, sizeof where);
        if (r == 200 || r < 92) {
            cls = tp_delete_where(p, t->name, where);
        } else {
            int cols[2], n = 1 + below(g, 2);
            folio_value uv[2];
            cols[0] = below(g, t->ncols);
            cols[1] = (cols[0] + 1) % t->ncols;
            for (int i = 0; i < n; i++) {
                uv[i] = vb.v[cols[i]];
                if (t->kind == 1 && cols[i] == 0 && uv[i].type == FOLIO_NULL) {
                    uv[i].type = FOLIO_INTEGER;
                    uv[i].u.i = 1;
                }
            }
            cls = tp_update_where(p, t->name, where, cols, uv, n);
        }
    }
    st->calls++;
    st->classes[cls]++;
    if (cls == TP_CONSTRAINT && strncmp(p->smsg, "abort in", 8) == 0)
        st->aborts++;
    if (cls == TP_CONSTRAINT && strncmp(p->smsg, "fail in", 7) == 0)
        st->fails++;
    if (cls == TP_CONSTRAINT && strncmp(p->smsg, "rollback in", 11) == 0)
        st->rollbacks++;
    if (cls != TP_SKIPPED && p->trigger_changes > 0)
        st->trigger_changes++;
}

static gschema g_schema;

static void run_round(uint64_t seed, int round, const char *dir, rstats *st)
{
    gen g = {.rng = seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(round + 1)), .s = &g_schema};
    compat_rand(&g.rng);
    g.xrng = g.rng ^ 0x5851F42D4C957F2Dull;
    gschema *s = g.s;
    memset(s, 0, sizeof *s);
    s->ntab = 3 + below(&g, 3);
    for (int i = 0; i < s->ntab; i++)
        gen_table(&g, i);
    int fk = ON(F_FOREIGN_KEYS) && chance(&g, 50);
    int rec = ON(F_RECURSIVE) && chance(&g, 25);
    int via_exec = ON(F_TRIGGERS) && ON(F_EXEC_CREATE) && chance(&g, 30);
    s->ntrig = ON(F_TRIGGERS) ? 4 + below(&g, MAX_TRIGGERS - 3) : 0;
    for (int i = 0; i < s->ntrig; i++)
        gen_trigger(&g, i);
    /* The base file: tables, some rows, then (unless folio_exec makes them)
     * the triggers. */
    static char setup[64 * 1024];
    buf b = {setup, 0, sizeof setup};
    for (int i = 0; i < s->ntab; i++)
        put(&b, "%s;\n", s->table_sql[i]);
    for (int i = 0; i < s->ntab; i++) {
        const gtab *t = &s->t[i];
        for (int r = 0; r < 6; r++) {
            vbuf vb;
            rand_row(&g, t, &vb);
            put(&b, "INSERT OR IGNORE INTO %s VALUES(", t->name);
            for (int c = 0; c < t->ncols; c++) {
                if (c)
                    put(&b, ", ");
                literal(&b, &vb.v[c]);
            }
            put(&b, ");\n");
        }
    }
    if (!via_exec)
        for (int i = 0; i < s->ntrig; i++)
            put(&b, "%s;\n", s->trig[i]);
    char name[32];
    snprintf(name, sizeof name, "r%d", round);
    tp_pair p;
    tp_open(&p, dir, name, setup, fk, rec);
    snprintf(p.ctx, sizeof p.ctx,
             "seed=%" PRIu64 " round %d (foreign_keys %d, recursive_triggers %d%s)", seed, round,
             fk, rec, via_exec ? ", triggers by folio_exec" : "");
    if (tp_debug()) {
        fprintf(stderr, "---- %s\n%s", p.ctx, setup);
        if (via_exec)
            for (int i = 0; i < s->ntrig; i++)
                fprintf(stderr, "%s; -- by folio_exec\n", s->trig[i]);
    }
    if (via_exec) {
        tp_begin(&p);
        for (int i = 0; i < s->ntrig; i++)
            cr_assert_eq(tp_exec(&p, s->trig[i]), TP_OK, "%s: %s", p.ctx, s->trig[i]);
        tp_end(&p, 1);
    }
    /* (A call that nests triggers 1000 deep costs SQLite about a second
     * here: a round stops after the first.) */
    for (int x = 0; x < 30 && p.n_too_deep == 0; x++) {
        tp_begin(&p);
        int n = 1 + below(&g, 8);
        for (int i = 0; i < n && p.in_txn; i++)
            one_call(&g, &p, st);
        tp_end(&p, below(&g, 5) != 0);
    }
    st->txn_ended += p.n_txn_rollbacks;
    st->too_deep += p.n_too_deep;
    st->sqlite_orphans += p.n_sqlite_orphans;
    st->commit_fail += p.n_commit_fail;
    st->rounds++;
    tp_close(&p);
}

Test(trigger_random, against_sqlite, .timeout = 600)
{
    features_from_env();
    uint64_t seed = compat_seed(20261207);
    const char *soak = getenv("FOLIO_SOAK");
    int rounds = soak && *soak && strcmp(soak, "0") != 0 ? 200 : 20;
    const char *only = getenv("FOLIO_TRIGGER_ROUND");
    char *dir = compat_tmpdir();
    rstats st;
    memset(&st, 0, sizeof st);
    for (int round = 0; round < rounds; round++)
        if (!only || !*only || atoi(only) == round)
            run_round(seed, round, dir, &st);
    printf("seed=%" PRIu64 ": %ld rounds, %ld calls: %ld ok, %ld constraint, %ld error, %ld "
           "mismatch, %ld no such row, %ld skipped (too long); RAISE: %ld ABORT, %ld FAIL, %ld "
           "ROLLBACK; %ld "
           "transactions ended by a call, %ld calls too deep, %ld failed commits; %ld calls "
           "whose triggers changed rows; %ld calls and commits where SQLite took an orphan\n",
           seed, st.rounds, st.calls, st.classes[TP_OK], st.classes[TP_CONSTRAINT],
           st.classes[TP_ERROR], st.classes[TP_MISMATCH], st.classes[TP_NOTFOUND],
           st.classes[TP_SKIPPED], st.aborts, st.fails, st.rollbacks, st.txn_ended, st.too_deep,
           st.commit_fail, st.trigger_changes, st.sqlite_orphans);
    fflush(stdout);
    /* What a full run must have exercised, or it proves little. */
    if (!only || !*only) {
        cr_assert(st.classes[TP_OK] > st.calls / 3, "seed=%" PRIu64 ": too few calls succeeded",
                  seed);
        cr_assert(st.classes[TP_CONSTRAINT] > 0, "seed=%" PRIu64 ": no constraint failed", seed);
        if (ON(F_TRIGGERS))
            cr_assert(st.trigger_changes > st.calls / 40,
                      "seed=%" PRIu64 ": triggers changed rows in only %ld calls", seed,
                      st.trigger_changes);
        if (ON(F_TRIGGERS) && ON(F_RAISE))
            cr_assert(st.aborts > 0 && st.fails > 0, "seed=%" PRIu64 ": no RAISE(ABORT) or FAIL",
                      seed);
        /* (Calls that end their transaction are rarer: a run of 20 rounds
         * may have none; the case raise_rollback_ends_the_transaction has.) */
        if (ON(F_TRIGGERS) && ON(F_RAISE) && ON(F_ROLLBACK) && rounds >= 100)
            cr_assert(st.txn_ended > 0, "seed=%" PRIu64 ": no call ended its transaction", seed);
    }
    compat_rmtree(dir);
    free(dir);
}
