/* fuzz_schema.c - the CREATE TABLE / CREATE INDEX / CREATE VIEW parsers over
 * arbitrary text. */
#include "schema/parse.h"
#include "schema/select.h"

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
    sq_view v;
    if (sq_parse_view(&v, sql, err, sizeof err) == 0) {
        char schema[64];
        (void)sq_view_foreign_schema(&v, schema, sizeof schema);
        sq_view_free(&v);
    }
    free(sql);
    return 0;
}
