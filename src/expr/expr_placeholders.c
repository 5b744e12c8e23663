/*
 * expr_placeholders.c - TO BE DELETED AT THE MERGE.
 *
 * Empty stand-ins for the date/time and JSON function tables, which other
 * branches write (src/expr/expr_date.c, src/expr/expr_json.c), so that this
 * branch links on its own. They are weak: once the real tables are merged
 * in, theirs win; the merge removes this file.
 */
#include "expr/expr_fn.h"

#if defined(__GNUC__)
#define EX_PLACEHOLDER __attribute__((weak))
#else
#define EX_PLACEHOLDER
#endif

EX_PLACEHOLDER const ex_fn_def ex_date_functions[] = {{NULL, 0, 0, 0, NULL}};
EX_PLACEHOLDER const ex_fn_def ex_json_functions[] = {{NULL, 0, 0, 0, NULL}};
