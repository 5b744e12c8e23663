/*
 * format_util.c - helpers shared by the format layer's unit tests: scratch
 * directories, whole-file reads and writes, SQL through libsqlite3, and a
 * small deterministic generator.
 */
#include "format_util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t fu_splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

char *fu_make_tmpdir(void)
{
    const char *base = getenv("FOLIO_TMP");
    char *dir = malloc(4096);
    cr_assert_not_null(dir);
    if (!base || !*base)
        base = "/tmp";
    mkdir(base, 0777); /* may exist already */
    snprintf(dir, 4096, "%s/folio-format-XXXXXX", base);
    if (!mkdtemp(dir)) {
        snprintf(dir, 4096, "/tmp/folio-format-XXXXXX");
        cr_assert_not_null(mkdtemp(dir), "mkdtemp failed");
    }
    return dir;
}

void fu_remove_tmpdir(char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4600];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    free(dir);
}

uint8_t *fu_read_file(const char *path, size_t *out_n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    cr_assert_not_null(f, "open %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    cr_assert_not_null(buf);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *out_n = (size_t)n;
    return buf;
}

void fu_write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "create %s", path);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    cr_assert_eq(fclose(f), 0);
}

void fu_exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, 0, 0, &err);
    cr_assert_eq(rc, SQLITE_OK, "%s: %s", sql, err ? err : "?");
}
