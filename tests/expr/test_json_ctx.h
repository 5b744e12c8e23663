/*
 * test_json_ctx.h - a test-only evaluation context for calling the JSON
 * functions (src/expr/expr_json.c) without the evaluator: ex_scratch,
 * ex_error, ex_nomem and ex_now_ms as the tests need them.
 */
#ifndef FOLIO_TEST_JSON_CTX_H
#define FOLIO_TEST_JSON_CTX_H

#include "expr/expr_fn.h"

/** A new context; NULL when out of memory. */
ex_ctx *tjc_new(void);
/** Free the context and everything its scratch gave out. */
void tjc_free(ex_ctx *cx);
/** Start an evaluation: scratch memory given out before is freed, the
 * error is cleared. */
void tjc_reset(ex_ctx *cx);
/** The message of the last ex_error / ex_nomem ("" when none). */
const char *tjc_errmsg(const ex_ctx *cx);
/** Fail the next ex_scratch calls after `n` more succeed (-1: never). */
void tjc_fail_scratch_after(ex_ctx *cx, long n);

#endif
