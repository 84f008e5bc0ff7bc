/* Shared by the fast-path test programs (capi-tests/fastpath), on top of
 * api/check.h's "ok"/"not ok" reporting: the kernel's ring header, reads of
 * /dev/zero tagged with an id, errno watching, checks isolated in a child
 * process, and the line that tells suites/fastpath.sh how many reaping
 * syscalls strace must see. */
#ifndef FASTPATH_H
#define FASTPATH_H

#include "../api/check.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* Not in the header (upstream comments it out), but exported. */
int io_queue_wait(io_context_t ctx, struct timespec *timeout);

/* The start of the ring the kernel maps at the context's address
 * (struct aio_ring in the kernel's fs/aio.c); the events follow it. */
struct ring_header {
    unsigned id, nr, head, tail, magic, compat_features, incompat_features, header_length;
    struct io_event events[];
};
#define RING_MAGIC 0xa10a10a1u
#define RING_OF(ctx) ((struct ring_header *)(ctx))

/* Addresses no user pointer can have: the kernel refuses them with -EFAULT. */
#define FIRST_PAGE_ADDRESS ((void *)8)
#define KERNEL_ADDRESS ((void *)0xffffffff81000000UL)

/* LIB(call): a library call that must leave errno alone; errno is set to a
 * marker before it and checked after it. */
#define ERRNO_MARKER 4321
static inline long errno_kept(long ret, const char *call)
{
    if (errno != ERRNO_MARKER) {
        printf("not ok %s leaves errno alone: errno is %d\n", call, errno);
        check_failures++;
        fflush(stdout);
    }
    return ret;
}
#define LIB(call) errno_kept((errno = ERRNO_MARKER, (long)(call)), #call)

/* What the kernel itself answers to io_getevents with these arguments;
 * only for arguments it refuses before it consumes anything. */
static inline long kernel_getevents(io_context_t ctx, long min_nr, long nr, void *events, void *timeout)
{
    long ret = syscall(SYS_io_getevents, ctx, min_nr, nr, events, timeout);
    return ret < 0 ? -errno : ret;
}

/* Reads of /dev/zero complete inside io_submit: when it returns, their
 * events are in the ring. Each read carries its id in `data`. */
#define ZERO_READ_BYTES 512
static char zero_read_buffer[ZERO_READ_BYTES];
static int zero_read_fd = -1;

static inline void prep_zero_read(struct iocb *cb, long id)
{
    if (zero_read_fd < 0)
        zero_read_fd = open_dev_zero();
    io_prep_pread(cb, zero_read_fd, zero_read_buffer, ZERO_READ_BYTES, 0);
    cb->data = (void *)id;
}

/* Submits COUNT (at most 64) reads of /dev/zero with ids FIRST_ID.. and
 * leaves their events in the ring. */
static inline void submit_zero_reads(io_context_t ctx, int count, long first_id)
{
    struct iocb cbs[64], *ptrs[64];
    REQUIRE("at most 64 reads at once", count <= 64);
    for (int i = 0; i < count; i++) {
        prep_zero_read(&cbs[i], first_id + i);
        ptrs[i] = &cbs[i];
    }
    REQUIRE("io_submit of reads of /dev/zero", io_submit(ctx, count, ptrs) == count);
}

/* A check that EV[0..COUNT) are the completions of the zero reads with ids
 * FIRST_ID.., in that order. */
static inline void check_zero_events(const char *name, const struct io_event *ev, int count, long first_id)
{
    for (int i = 0; i < count; i++) {
        if ((long)ev[i].data != first_id + i || ev[i].res != ZERO_READ_BYTES || ev[i].res2 != 0) {
            printf("not ok %s: event %d is id %ld res %ld res2 %ld, want id %ld res %d res2 0\n", name, i,
                   (long)ev[i].data, (long)ev[i].res, (long)ev[i].res2, first_id + i, ZERO_READ_BYTES);
            check_failures++;
            fflush(stdout);
            return;
        }
    }
    printf("ok %s\n", name);
    fflush(stdout);
}

/* The syscalls strace must count for the whole run (suites/fastpath.sh). */
static inline void print_expected_syscalls(long getevents, long pgetevents)
{
    printf("expect syscalls: io_getevents=%ld io_pgetevents=%ld\n", getevents, pgetevents);
}

static inline void sleep_ms(long ms)
{
    struct timespec pause = {ms / 1000, ms % 1000 * 1000000};
    while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
        ;
}

/* With FASTPATH_OBSERVE set, isolated checks report what happened instead
 * of passing or failing (to show another library's behaviour). */
static inline int observing(void)
{
    return getenv("FASTPATH_OBSERVE") != NULL;
}

/* Runs BODY(ARG) in a child process, so that a crash or a hang fails only
 * this check, and checks that it returned WANT within TIMEOUT_S seconds.
 * BODY may print its own checks; the child's failures count here. */
static inline void check_isolated(const char *name, long (*body)(const void *), const void *arg, long want,
                                  int timeout_s)
{
    long *result = mmap(NULL, sizeof *result, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE("mmap of a shared page", result != MAP_FAILED);
    fflush(stdout);
    pid_t child = fork();
    REQUIRE("fork", child >= 0);
    if (child == 0) {
        *result = body(arg);
        fflush(stdout);
        _exit(check_failures ? 1 : 0);
    }
    int status = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (waitpid(child, &status, WNOHANG) == 0) {
        if (elapsed_ms(&start) > timeout_s * 1000LL) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            printf("%s %s: still running after %d s (hangs)\n", observing() ? "observed" : "not ok", name,
                   timeout_s);
            check_failures += !observing();
            munmap(result, sizeof *result);
            return;
        }
        sleep_ms(1);
    }
    if (WIFSIGNALED(status)) {
        printf("%s %s: killed by signal %d (%s)\n", observing() ? "observed" : "not ok", name, WTERMSIG(status),
               strsignal(WTERMSIG(status)));
        check_failures += !observing();
    } else if (observing()) {
        printf("observed %s: returned %ld\n", name, *result);
    } else {
        /* A child that reported a failure of its own has printed it. */
        check_failures += WEXITSTATUS(status) != 0;
        CHECK(name, *result, want);
    }
    munmap(result, sizeof *result);
}

#endif
