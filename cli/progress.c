/*
 * progress.c: the progress line on a terminal's stderr (see progress.h).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

#define BAR_WIDTH        24
#define FIRST_DRAW_S     0.5 /* quick work shows nothing */
#define REDRAW_S         0.2
#define CLOCK_EVERY_MASK 255u /* read the clock once per 256 updates */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A count in at most 6 characters: 999, 12.3k, 4.5M, 1.2G; bytes as KiB... */
static void format_count(char *out, size_t size, double v, int bytes)
{
    static const char *const dec[] = {"", "k", "M", "G", "T", "P"};
    static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double base = bytes ? 1024.0 : 1000.0;
    int i = 0;
    while (v >= base && i < 5) {
        v /= base;
        i++;
    }
    if (i == 0)
        snprintf(out, size, "%.0f%s", v, bytes ? bin[0] : "");
    else
        snprintf(out, size, v < 10 ? "%.1f%s" : "%.0f%s", v, bytes ? bin[i] : dec[i]);
}

static void format_duration(char *out, size_t size, double s)
{
    if (s < 0 || s > 359999)
        s = 359999;
    unsigned long t = (unsigned long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, size, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, size, "%lu:%02lu", t / 60, t % 60);
}

static void draw(cli_progress *p, double now)
{
    double elapsed = now - p->start_s;
    double rate = elapsed > 0 ? (double)p->done / elapsed : 0;
    char done[32], total[32], speed[32], time_text[32];
    format_count(done, sizeof done, (double)p->done, p->bytes);
    format_count(speed, sizeof speed, rate, p->bytes);
    const char *unit = p->bytes ? "" : p->unit;
    const char *sep = p->bytes ? "" : " ";

    char line[256];
    if (p->size_total > 0) {
        uint64_t d = p->size_done < p->size_total ? p->size_done : p->size_total;
        double share = (double)d / (double)p->size_total;
        int pct = (int)(100.0 * share);
        int fill = (int)((double)BAR_WIDTH * share);
        char bar[BAR_WIDTH + 1];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
        bar[BAR_WIDTH] = '\0';
        double bytes_rate = elapsed > 0 ? (double)d / elapsed : 0;
        if (bytes_rate > 0)
            format_duration(time_text, sizeof time_text, (double)(p->size_total - d) / bytes_rate);
        else
            strcpy(time_text, "?");
        snprintf(line, sizeof line, "%s %3d%% [%s] %s%s%s  %s%s%s/s  ETA %s", p->label, pct, bar,
                 done, sep, unit, speed, sep, unit, time_text);
    } else if (p->total > 0) {
        uint64_t d = p->done < p->total ? p->done : p->total;
        int pct = (int)(100.0 * (double)d / (double)p->total);
        int fill = (int)((double)BAR_WIDTH * (double)d / (double)p->total);
        char bar[BAR_WIDTH + 1];
        memset(bar, '#', (size_t)fill);
        memset(bar + fill, '.', (size_t)(BAR_WIDTH - fill));
        bar[BAR_WIDTH] = '\0';
        format_count(total, sizeof total, (double)p->total, p->bytes);
        if (rate > 0)
            format_duration(time_text, sizeof time_text, (double)(p->total - d) / rate);
        else
            strcpy(time_text, "?");
        snprintf(line, sizeof line, "%s %3d%% [%s] %s/%s%s%s  %s%s%s/s  ETA %s", p->label, pct, bar,
                 done, total, sep, unit, speed, sep, unit, time_text);
    } else if (p->done > 0) {
        format_duration(time_text, sizeof time_text, elapsed);
        snprintf(line, sizeof line, "%s %s%s%s  %s%s%s/s  %s", p->label, done, sep, unit, speed,
                 sep, unit, time_text);
    } else {
        format_duration(time_text, sizeof time_text, elapsed);
        snprintf(line, sizeof line, "%s: working  %s", p->label, time_text);
    }
    /* \r back to the start of the line, \033[K erases what a longer line left. */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->drawn = 1;
    p->last_draw_s = now;
}

void progress_start(cli_progress *p, const char *label, uint64_t total, const char *unit)
{
    memset(p, 0, sizeof *p);
    p->active = isatty(STDERR_FILENO);
    p->label = label;
    p->unit = unit ? unit : "";
    p->bytes = unit && strcmp(unit, "bytes") == 0;
    p->total = total;
    if (p->active)
        p->start_s = now_s();
}

void progress_update(cli_progress *p, uint64_t done)
{
    p->done = done;
    if (!p->active || (++p->tick & CLOCK_EVERY_MASK) != 0)
        return;
    double now = now_s();
    if (now - p->start_s < FIRST_DRAW_S || now - p->last_draw_s < REDRAW_S)
        return;
    draw(p, now);
}

void progress_start_sized(cli_progress *p, const char *label, uint64_t size_total, const char *unit)
{
    progress_start(p, label, 0, unit);
    p->size_total = size_total;
}

void progress_update_sized(cli_progress *p, uint64_t done, uint64_t size_done)
{
    p->size_done = size_done;
    progress_update(p, done);
}

void progress_show(cli_progress *p)
{
    if (p->active)
        draw(p, now_s());
}

void progress_finish(cli_progress *p)
{
    if (p->active && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->active = 0;
    p->drawn = 0;
}
