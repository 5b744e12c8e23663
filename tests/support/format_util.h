/*
 * format_util.h - helpers shared by the format layer's unit tests.
 */
#ifndef FOLIO_TEST_FORMAT_UTIL_H
#define FOLIO_TEST_FORMAT_UTIL_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

uint64_t fu_splitmix(uint64_t *s);
char *fu_make_tmpdir(void);
void fu_remove_tmpdir(char *dir);
uint8_t *fu_read_file(const char *path, size_t *out_n);
void fu_write_file(const char *path, const uint8_t *p, size_t n);
void fu_exec(sqlite3 *db, const char *sql);

#endif
