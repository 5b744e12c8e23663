/*
 * input.h: the input of import and apply: a file, standard input ("-") or a
 * memory buffer, read in large blocks and handed out line by line.
 *
 * Lines may be of any length: the buffer grows to hold the longest line. A
 * returned line lives until the next call. Memory is allocated only while
 * lines grow, never per line.
 */
#ifndef FOLIO_CLI_INPUT_H
#define FOLIO_CLI_INPUT_H

#include <stddef.h>
#include <stdint.h>

#define INPUT_BLOCK_BYTES (1u << 20)

typedef struct cli_input {
    const char *name; /* the path, or "stdin" */
    int fd;           /* -1 for a memory buffer or a closed input */
    int own_fd;       /* close fd at the end (not for stdin) */
    char *buf;        /* file input: the block buffer */
    const char *data; /* the bytes: buf, or the memory buffer */
    size_t cap;       /* size of buf */
    size_t start;     /* first byte not yet handed out */
    size_t end;       /* end of the bytes read */
    size_t scanned;   /* bytes from start known to hold no '\n' */
    int eof;          /* nothing more to read */
    int err;          /* errno of a failed read or allocation, 0 while fine */
    uint64_t size;    /* total bytes of a regular file or buffer, 0 when unknown */
    uint64_t pos;     /* bytes handed out so far */
    uint64_t line;    /* number of the last line handed out, from 1 */
} cli_input;

/**
 * Open `path` ("-": standard input) for reading. Returns CLI_EXIT_OK, or
 * CLI_EXIT_FAIL after printing why.
 */
int input_open(cli_input *in, const char *path);

/** Read `n` bytes at `p` (which must outlive the input) as the input. */
void input_open_mem(cli_input *in, const void *p, size_t n);

/**
 * The next line, without its '\n' (a '\r' before it is kept). The last line
 * of the input need not end with '\n'. Returns 1 with the line in *out and
 * *out_n, 0 at the end of the input, or -1 on a read error (in->err).
 */
int input_line(cli_input *in, const char **out, size_t *out_n);

/** Close the file (not standard input) and free the buffer. */
void input_close(cli_input *in);

#endif /* FOLIO_CLI_INPUT_H */
