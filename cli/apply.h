/*
 * apply.h: JSONL operations (docs/ARCHITECTURE.md, "The CLI's JSONL
 * contracts"), parsed and applied to a database one line at a time.
 * `folio apply` drives it over a file; the fuzz target fuzz_jsonl drives it
 * over a buffer.
 *
 *   {"op":"insert","table":T,"values":[...]}            optional "rowid":R
 *   {"op":"update","table":T,"rowid":R,"values":[...]}
 *   {"op":"upsert","table":T,"rowid":R,"values":[...]}
 *   {"op":"patch","table":T,"rowid":R,"set":{"col":v,...}}
 *   {"op":"delete","table":T,"rowid":R}
 *   {"op":"exec","sql":"CREATE ..."}
 *
 * Values use the encoding of jsonval.h. For WITHOUT ROWID tables update,
 * patch and delete take "key":[...] (the primary key values in primary key
 * order) instead of "rowid", and upsert takes the key from its values. An
 * insert with a "rowid" that exists fails with a UNIQUE constraint error;
 * update, patch and delete of a missing row fail. "values" may be shorter
 * than the row: the missing last columns take their defaults. Members other
 * than those listed are an error (a misspelt "rowid" must not turn into a
 * plain insert).
 *
 * Transactions: a write transaction begins at the first operation. With
 * `autocommit` each line commits on its own; otherwise the caller commits
 * with apply_commit(). A failed line rolls back the open transaction, so
 * nothing of it remains.
 *
 * A change feed (`folio feed`): when the first line is {"op":"source",...}
 * or carries "version", the input is a feed and the database a replica of
 * its source. Every later line then carries "version" (update and delete
 * may carry "old", the row before, which is not needed to apply them):
 *
 *   {"op":"source","source":S}                  the log fed (its identity)
 *   {"version":V,"op":"snapshot","time_us":T}   V rebuilds the replica:
 *                                               its tables go first
 *   {"version":V,"op":"insert",...}, "update", "delete", "exec"
 *   {"version":V,"op":"commit","time_us":T}     the end of version V
 *
 * The operations of one version are one transaction (FOLIO_TXN_REPLICA:
 * no triggers, foreign keys or AUTOINCREMENT bookkeeping, since the feed
 * carries their effects), committed at its "commit" line together with the
 * row (S, V) of the table _folio_replica(source TEXT PRIMARY KEY, version
 * INTEGER NOT NULL). A version at or below the one recorded for S is
 * passed over, so a replica can be fed again from any point after any
 * stop: nothing is applied twice. Input that ends inside a version leaves
 * that version out (an error naming it; the versions before stay).
 */
#ifndef FOLIO_CLI_APPLY_H
#define FOLIO_CLI_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "input.h"
#include "progress.h"

#define APPLY_ERR_MAX 1024

typedef struct apply_vec {
    folio_value *v;
    int n;
    int cap;
} apply_vec;

typedef struct cli_apply {
    folio_db *db;
    folio_txn *txn; /* the open write transaction, or NULL */
    int autocommit;
    uint64_t ops;    /* operations applied */
    cli_arena arena; /* decoded bytes of the current line */
    apply_vec vals;  /* "values", or the patched row */
    apply_vec key;   /* "key" */
    apply_vec set;   /* the values of "set" */
    int *cols;       /* the columns of "set" */
    int cols_cap;
    char err[APPLY_ERR_MAX]; /* "line N: why" after a failure */
    /* A change feed (see above). */
    int mode;         /* 0: not known yet, 1: operations, 2: a feed */
    char *source;     /* the feed's source */
    uint64_t applied; /* the last version of source the replica holds */
    uint64_t cur;     /* the version being read (0: between versions) */
    int skipping;     /* it is applied already: its lines are passed over */
    uint64_t cur_line;
    uint64_t versions_applied, versions_skipped;
} cli_apply;

void apply_init(cli_apply *a, folio_db *db, int autocommit);

/**
 * Apply one line (`n` bytes, without its newline) numbered `lineno`. A line
 * of white space only is skipped. Returns 0, or -1 with the message in
 * a->err; the open transaction has then been rolled back.
 */
int apply_line(cli_apply *a, uint64_t lineno, const char *line, size_t n);

/**
 * Apply every line of `in` (stopping at the first failure), updating `prog`
 * (may be NULL), then commit. Returns 0, or -1 with the message in a->err
 * and nothing of the open transaction left.
 */
int apply_input(cli_apply *a, cli_input *in, cli_progress *prog);

/** Commit the open transaction, if any. Returns 0, or -1 with a->err set
 * (the transaction is gone either way). */
int apply_commit(cli_apply *a);

/** Roll back the open transaction, if any, and free the buffers. */
void apply_free(cli_apply *a);

#endif /* FOLIO_CLI_APPLY_H */
