/*
 * input.c: block-wise line reading for import and apply (see input.h).
 *
 * The buffer holds [start, end): bytes read but not yet handed out. A line is
 * returned in place when its '\n' is in the buffer; otherwise the partial line
 * moves to the front, the buffer doubles if the line fills it, and the next
 * block is read behind it. `scanned` remembers how far the partial line was
 * already searched, so a long line is scanned once, not once per block.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "input.h"

int input_open(cli_input *in, const char *path)
{
    memset(in, 0, sizeof *in);
    in->fd = -1;
    if (strcmp(path, "-") == 0) {
        in->name = "stdin";
        in->fd = STDIN_FILENO;
    } else {
        in->name = path;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return cli_fail("cannot open %s: %s", path, strerror(errno));
        in->fd = fd;
        in->own_fd = 1;
    }
    struct stat st;
    if (fstat(in->fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            input_close(in);
            return cli_fail("cannot read %s: %s", path, strerror(EISDIR));
        }
        if (S_ISREG(st.st_mode) && st.st_size > 0)
            in->size = (uint64_t)st.st_size;
    }
    in->buf = malloc(INPUT_BLOCK_BYTES);
    if (!in->buf) {
        input_close(in);
        return cli_fail("out of memory");
    }
    in->cap = INPUT_BLOCK_BYTES;
    in->data = in->buf;
    return CLI_EXIT_OK;
}

void input_open_mem(cli_input *in, const void *p, size_t n)
{
    memset(in, 0, sizeof *in);
    in->name = "input";
    in->fd = -1;
    in->data = n ? p : "";
    in->end = n;
    in->eof = 1;
    in->size = n;
}

/* Make room behind the partial line and read one more block. Returns 0, or
 * -1 with in->err set. Sets in->eof at the end of the file. */
static int fill(cli_input *in)
{
    if (in->start > 0) {
        memmove(in->buf, in->buf + in->start, in->end - in->start);
        in->end -= in->start;
        in->start = 0;
    }
    if (in->end == in->cap) {
        if (in->cap > SIZE_MAX / 2) {
            in->err = ENOMEM;
            return -1;
        }
        char *nb = realloc(in->buf, in->cap * 2);
        if (!nb) {
            in->err = ENOMEM;
            return -1;
        }
        in->buf = nb;
        in->data = nb;
        in->cap *= 2;
    }
    for (;;) {
        ssize_t got = read(in->fd, in->buf + in->end, in->cap - in->end);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            in->err = errno;
            return -1;
        }
        if (got == 0)
            in->eof = 1;
        in->end += (size_t)got;
        return 0;
    }
}

int input_line(cli_input *in, const char **out, size_t *out_n)
{
    if (in->err)
        return -1;
    for (;;) {
        const char *p = in->data + in->start;
        size_t avail = in->end - in->start;
        const char *nl =
            in->scanned < avail ? memchr(p + in->scanned, '\n', avail - in->scanned) : NULL;
        if (nl || (in->eof && avail > 0)) {
            size_t n = nl ? (size_t)(nl - p) : avail;
            size_t used = nl ? n + 1 : n;
            in->start += used;
            in->pos += used;
            in->scanned = 0;
            in->line++;
            *out = p;
            *out_n = n;
            return 1;
        }
        if (in->eof)
            return 0;
        in->scanned = avail;
        if (fill(in) != 0)
            return -1;
    }
}

void input_close(cli_input *in)
{
    if (in->own_fd && in->fd >= 0)
        close(in->fd);
    in->fd = -1;
    in->own_fd = 0;
    free(in->buf);
    in->buf = NULL;
    in->data = NULL;
}
