/*
 * test_json_ctx.c - the test-only evaluation context (see test_json_ctx.h).
 *
 * Every ex_scratch block is its own malloc, so that AddressSanitizer sees a
 * write past the bytes a function asked for; reset frees them all. The
 * evaluator's real context (src/expr) replaces this file once it exists.
 */
#include "test_json_ctx.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio.h"

#define TJC_MESSAGE_BYTES 4096

typedef struct block {
    struct block *next;
    /* the caller's bytes follow, aligned for any type */
    max_align_t data[];
} block;

struct ex_ctx {
    block *blocks;
    long fail_after; /* ex_scratch calls left before failing; -1: never */
    char errmsg[TJC_MESSAGE_BYTES];
};

ex_ctx *tjc_new(void)
{
    ex_ctx *cx = calloc(1, sizeof *cx);
    if (cx)
        cx->fail_after = -1;
    return cx;
}

void tjc_reset(ex_ctx *cx)
{
    while (cx->blocks) {
        block *next = cx->blocks->next;
        free(cx->blocks);
        cx->blocks = next;
    }
    cx->errmsg[0] = 0;
}

void tjc_free(ex_ctx *cx)
{
    if (!cx)
        return;
    tjc_reset(cx);
    free(cx);
}

const char *tjc_errmsg(const ex_ctx *cx)
{
    return cx->errmsg;
}

void tjc_fail_scratch_after(ex_ctx *cx, long n)
{
    cx->fail_after = n;
}

uint8_t *ex_scratch(ex_ctx *cx, size_t n)
{
    if (cx->fail_after == 0)
        return NULL;
    if (cx->fail_after > 0)
        cx->fail_after--;
    block *b = malloc(sizeof(block) + n);
    if (!b)
        return NULL;
    b->next = cx->blocks;
    cx->blocks = b;
    return (uint8_t *)b->data;
}

int ex_error(ex_ctx *cx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cx->errmsg, sizeof cx->errmsg, fmt, ap);
    va_end(ap);
    return FOLIO_ERROR;
}

int ex_nomem(ex_ctx *cx)
{
    snprintf(cx->errmsg, sizeof cx->errmsg, "out of memory");
    return FOLIO_NOMEM;
}

int ex_now_ms(ex_ctx *cx, int64_t *out)
{
    (void)cx;
    *out = 0;
    return 0;
}
