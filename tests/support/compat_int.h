/*
 * compat_int.h - helpers shared by compat.c and compat_compare.c (not for
 * tests). Allocation failures fail the running test.
 */
#ifndef FOLIO_TESTS_COMPAT_INT_H
#define FOLIO_TESTS_COMPAT_INT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

/* A growing string. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

void *cx_malloc(size_t n);
void *cx_realloc(void *p, size_t n);
char *cx_strdup(const char *s);
void cx_sb_vadd(sbuf *b, const char *fmt, va_list ap);
void cx_sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string built so far (never NULL); the buffer stays owned by `b`. */
const char *cx_sb_str(sbuf *b);
void cx_sb_free(sbuf *b);
/* A freshly allocated formatted string. */
char *cx_vformat(const char *fmt, va_list ap);
/* Step: 1 for a row, 0 when done; fails the test on an error. */
int cx_step_row(sqlite3 *db, sqlite3_stmt *st);
/* FNV-1a of `s`, continuing from `h`. */
uint64_t cx_hash_str(uint64_t h, const char *s);
/* "read-only" or "read-write". */
const char *cx_mode_name(unsigned mode);

#endif /* FOLIO_TESTS_COMPAT_INT_H */
