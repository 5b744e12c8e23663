/*
 * Tests that must also run under ThreadSanitizer. Criterion's runner cannot
 * start under ThreadSanitizer (it maps its shared arena at an address
 * ThreadSanitizer reserves: "Could not initialize inheritable arena",
 * Snaipe/Criterion#274), so there a test file defines SELF_RUN, writes its
 * checks as T_EXPECT / T_ASSERT, and has a main() that calls selfrun_main()
 * to run the same tests in-process, one after the other, exiting non-zero if
 * any check failed. Elsewhere the checks are Criterion's.
 */
#ifndef FOLIO_TESTS_SELFRUN_H
#define FOLIO_TESTS_SELFRUN_H

#if defined(__SANITIZE_THREAD__)
#define SELF_RUN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SELF_RUN 1
#endif
#endif

#ifdef SELF_RUN
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* An expectation counts a failure, an assertion also ends the test. */
static int g_failures;
static jmp_buf g_test_end;

static void check_failed(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void check_failed(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s:%d: check failed: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    g_failures++;
}

/* Every check has a message (a format and its arguments). */
#define T_EXPECT(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond))                                                                               \
            check_failed(__FILE__, __LINE__, __VA_ARGS__);                                         \
    } while (0)
#define T_ASSERT(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            check_failed(__FILE__, __LINE__, __VA_ARGS__);                                         \
            longjmp(g_test_end, 1);                                                                \
        }                                                                                          \
    } while (0)

typedef struct selfrun_test {
    const char *name;
    void (*fn)(void);
} selfrun_test;

/* Runs every test, or those whose name contains a plain-word argument
 * (options such as CTest's "--jobs 1" are skipped with their value). */
static int selfrun_main(int argc, char **argv, const selfrun_test *tests, size_t ntests)
{
    int failed = 0;
    size_t ran = 0;
    const char *filter = NULL;
    for (int a = 1; a < argc; a++) {
        if (argv[a][0] == '-') {
            a++;
            continue;
        }
        filter = argv[a];
    }
    for (size_t i = 0; i < ntests; i++) {
        if (filter && !strstr(tests[i].name, filter))
            continue;
        ran++;
        int before = g_failures;
        fprintf(stderr, "[RUN ] %s\n", tests[i].name);
        if (setjmp(g_test_end) == 0)
            tests[i].fn();
        int ok = g_failures == before;
        failed += !ok;
        fprintf(stderr, "[%s] %s\n", ok ? "PASS" : "FAIL", tests[i].name);
    }
    fprintf(stderr, "[====] Synthesis: Tested: %zu | Passing: %zu | Failing: %d\n", ran,
            ran - (size_t)failed, failed);
    if (ran == 0) {
        fprintf(stderr, "no test matched\n");
        return 1;
    }
    return failed ? 1 : 0;
}
#else
#define T_EXPECT cr_expect
#define T_ASSERT cr_assert
#endif

#endif
