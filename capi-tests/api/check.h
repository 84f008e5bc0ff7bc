/* Shared helpers for the C test programs in capi-tests/api.
 *
 * Each program prints one line per check, "ok NAME" or "not ok NAME: ...",
 * and exits 1 if any check failed; api/lib.sh turns the lines into
 * PASS/FAIL. Apart from helpers.c (our exported helpers), the programs use
 * only what upstream libaio has too, so each binary also runs against the
 * system library. */
#ifndef CAPI_CHECK_H
#define CAPI_CHECK_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int check_failures;

static inline void check_report(const char *name, int ok, long long got, long long want)
{
    if (ok) {
        printf("ok %s\n", name);
    } else {
        printf("not ok %s: got %lld (%#llx), want %lld (%#llx)\n", name, got, got, want, want);
        check_failures++;
    }
    fflush(stdout);
}

/* Passes if GOT == WANT, both taken as integers (pointers included). */
#define CHECK(name, got, want)                                                \
    do {                                                                      \
        long long got_ = (long long)(got), want_ = (long long)(want);         \
        check_report((name), got_ == want_, got_, want_);                     \
    } while (0)

/* Passes if COND holds. */
#define CHECK_TRUE(name, cond) check_report((name), !!(cond), !!(cond), 1)

/* Stops the program: a precondition of the remaining checks failed. */
#define REQUIRE(what, cond)                                                   \
    do {                                                                      \
        if (!(cond)) {                                                        \
            printf("not ok %s (cannot continue; errno %d)\n", (what), errno); \
            exit(1);                                                          \
        }                                                                     \
    } while (0)

static inline int check_finish(void)
{
    return check_failures ? 1 : 0;
}

static inline io_context_t new_ctx(int maxevents)
{
    io_context_t ctx = 0;
    REQUIRE("io_setup", io_setup(maxevents, &ctx) == 0);
    return ctx;
}

/* Memory that is readable but holds no ring: a context id the kernel does
 * not know, which no libaio may crash on (upstream reads its magic). */
static char not_a_ring[4096] __attribute__((aligned(4096), unused));
#define BOGUS_CTX ((io_context_t)not_a_ring)

static const struct timespec zero_timeout = {0, 0};
#define ZERO_TIMEOUT ((struct timespec *)&zero_timeout)

/* Reads from /dev/zero complete inside io_submit. */
static inline int open_dev_zero(void)
{
    int fd = open("/dev/zero", O_RDONLY);
    REQUIRE("open /dev/zero", fd >= 0);
    return fd;
}

static inline void submit_one(io_context_t ctx, struct iocb *cb)
{
    REQUIRE("io_submit of one iocb", io_submit(ctx, 1, &cb) == 1);
}

/* Waits up to one second for exactly one event. */
static inline int wait_one(io_context_t ctx, struct io_event *ev)
{
    struct timespec one_second = {1, 0};
    return io_getevents(ctx, 1, 1, ev, &one_second);
}

/* An empty file in $TMPDIR, already unlinked. */
static inline int scratch_file(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/capi-api.XXXXXX", dir ? dir : "/tmp");
    int fd = mkstemp(path);
    REQUIRE("mkstemp", fd >= 0);
    unlink(path);
    return fd;
}

static inline long long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return ((now.tv_sec - since->tv_sec) * 1000000000LL + (now.tv_nsec - since->tv_nsec)) / 1000000;
}

/* What io_queue_run passed to record_call, in call order. */
struct recorded_call {
    io_context_t ctx;
    struct iocb *iocb;
    long res, res2;
};
static struct recorded_call recorded[16] __attribute__((unused));
static int recorded_count;

static inline void record_call(io_context_t ctx, struct iocb *iocb, long res, long res2)
{
    if (recorded_count < (int)(sizeof recorded / sizeof recorded[0]))
        recorded[recorded_count] = (struct recorded_call){ctx, iocb, res, res2};
    recorded_count++;
}

/* Runs io_queue_run until at least WANT calls are recorded (completions of
 * polls and fsyncs arrive from kernel workers) or two seconds have passed.
 * Returns the last io_queue_run result. */
static inline int run_until_recorded(io_context_t ctx, int want)
{
    struct timespec start, pause = {0, 1000000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int ret = io_queue_run(ctx);
        if (ret != 0 || recorded_count >= want || elapsed_ms(&start) > 2000)
            return ret;
        nanosleep(&pause, NULL);
    }
}

#endif
