/* fuzz_schema.c - the CREATE TABLE / CREATE INDEX parser over arbitrary text. */
#include "schema/parse.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = malloc(size + 1);
    if (!sql)
        return 0;
    memcpy(sql, data, size);
    sql[size] = 0;
    char err[256];
    sch_table t;
    int have_table = sch_parse_table(&t, sql, err, sizeof err) == 0;
    sch_index ix;
    if (sch_parse_index(&ix, sql, have_table ? &t : NULL, err, sizeof err) == 0)
        sch_index_free(&ix);
    if (have_table)
        sch_table_free(&t);
    free(sql);
    return 0;
}
