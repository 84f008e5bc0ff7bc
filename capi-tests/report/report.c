/* report MODE [ARGS]: workloads whose numbers suites/report.sh knows and
 * compares with the report the library writes (LIBAIO_RS_STATS,
 * LIBAIO_RS_STATS_JSON). Each mode uses one context, prints what the suite
 * needs as "NAME VALUE" lines, and checks that the I/O itself did what it
 * should (so that a wrong count is the report's fault, not the workload's):
 *
 *   blocking-pipe FAST   FAST fast reads of /dev/zero, then one read of an
 *                        empty pipe that another thread writes to 50 ms
 *                        later: it blocks inside io_submit.
 *   direct-reads FILE US 200 io_submit calls of 8 aligned 4 KiB O_DIRECT
 *                        reads of FILE (at least 256 KiB), each reaped at
 *                        once; counts the calls that took US µs or more by
 *                        its own clock (which the library's measurement
 *                        lies within), and prints the median call's µs.
 *   mix                  a known mix of submissions and reaps, some of which
 *                        must wait in the kernel.
 *   res-errors FILE      3 reads of /dev/zero into unmapped memory and 2
 *                        O_DIRECT reads of FILE into a misaligned buffer.
 *   fork                 3 reads on a context, then a child that makes its
 *                        own context, does 2 reads, destroys it and exits. */
#include "../fastpath/fastpath.h"
#include <poll.h>

/* Runs FN(ARG) in a new thread. */
static pthread_t start_thread(void *(*fn)(void *), void *arg)
{
    pthread_t thread;
    REQUIRE("pthread_create", pthread_create(&thread, NULL, fn, arg) == 0);
    return thread;
}

static long long now_us(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec * 1000000LL + now.tv_nsec / 1000;
}

/* The pipe that a writer thread writes one byte to after WRITER_DELAY_MS. */
#define WRITER_DELAY_MS 50
static int pipe_fds[2];
static long writer_delay_ms;

static void *write_later(void *unused)
{
    (void)unused;
    sleep_ms(writer_delay_ms);
    REQUIRE("write to the pipe", write(pipe_fds[1], "x", 1) == 1);
    return NULL;
}

/* Submits one read of /dev/zero and reaps it; returns whether it read. */
static int zero_read_round_trip(io_context_t ctx, long id)
{
    struct io_event ev;
    submit_zero_reads(ctx, 1, id);
    return io_getevents(ctx, 1, 1, &ev, NULL) == 1 && ev.res == ZERO_READ_BYTES;
}

static void blocking_pipe(long fast_reads)
{
    io_context_t ctx = new_ctx(8);
    long fast_done = 0;
    for (long id = 0; id < fast_reads; id++)
        fast_done += zero_read_round_trip(ctx, id);
    CHECK("the fast reads of /dev/zero read", fast_done, fast_reads);

    REQUIRE("pipe", pipe(pipe_fds) == 0);
    char byte;
    struct iocb cb, *ptr = &cb;
    io_prep_pread(&cb, pipe_fds[0], &byte, 1, 0);
    writer_delay_ms = WRITER_DELAY_MS;
    /* The clock starts before the writer does: its delay then lies within
     * submit_us however late this thread comes back from pthread_create. */
    long long start = now_us();
    pthread_t writer = start_thread(write_later, NULL);
    int submitted = io_submit(ctx, 1, &ptr);
    long long submit_us = now_us() - start;
    printf("pipe_read_fd %d\nsubmit_us %lld\n", pipe_fds[0], submit_us);
    CHECK("io_submit of the pipe read", submitted, 1);
    struct io_event ev;
    CHECK("the pipe read completes with the byte written", wait_one(ctx, &ev) == 1 && ev.res == 1 && byte == 'x', 1);
    pthread_join(writer, NULL);
    CHECK("io_destroy", io_destroy(ctx), 0);
}

#define DIRECT_CALLS 200
#define DIRECT_BATCH 8
#define DIRECT_BLOCK 4096
#define DIRECT_FILE_BLOCKS 64

static int compare_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

static void direct_reads(const char *path, long slow_us)
{
    static long call_us[DIRECT_CALLS];
    int fd = open(path, O_RDONLY | O_DIRECT);
    REQUIRE("open with O_DIRECT", fd >= 0);
    char *buffers;
    REQUIRE("posix_memalign", posix_memalign((void **)&buffers, DIRECT_BLOCK, DIRECT_BATCH * DIRECT_BLOCK) == 0);
    io_context_t ctx = new_ctx(DIRECT_BATCH);
    struct iocb cbs[DIRECT_BATCH], *ptrs[DIRECT_BATCH];
    struct io_event evs[DIRECT_BATCH];
    long reads_done = 0, slow_by_own_clock = 0;
    for (long call = 0; call < DIRECT_CALLS; call++) {
        for (int i = 0; i < DIRECT_BATCH; i++) {
            long block = (call * DIRECT_BATCH + i) % DIRECT_FILE_BLOCKS;
            io_prep_pread(&cbs[i], fd, buffers + i * DIRECT_BLOCK, DIRECT_BLOCK, block * DIRECT_BLOCK);
            ptrs[i] = &cbs[i];
        }
        long long start = now_us();
        int submitted = io_submit(ctx, DIRECT_BATCH, ptrs);
        call_us[call] = now_us() - start;
        slow_by_own_clock += call_us[call] >= slow_us;
        REQUIRE("io_submit of the O_DIRECT reads", submitted == DIRECT_BATCH);
        REQUIRE("io_getevents", io_getevents(ctx, DIRECT_BATCH, DIRECT_BATCH, evs, NULL) == DIRECT_BATCH);
        for (int i = 0; i < DIRECT_BATCH; i++)
            reads_done += evs[i].res == DIRECT_BLOCK;
    }
    CHECK("every O_DIRECT read read 4 KiB", reads_done, DIRECT_CALLS * DIRECT_BATCH);
    printf("slow_by_own_clock %ld\n", slow_by_own_clock);
    qsort(call_us, DIRECT_CALLS, sizeof call_us[0], compare_long);
    printf("median_call_us %ld\n", call_us[DIRECT_CALLS / 2]);
    CHECK("io_destroy", io_destroy(ctx), 0);
}

/* The mix: batches of /dev/zero reads reaped from the ring, waits that time
 * out on an empty ring, and polls of a pipe that a thread writes to later,
 * reaped by waiting: with io_getevents (whose wait the library skips if the
 * write came first), or io_pgetevents with a signal mask (which always makes
 * its syscall, since only the kernel knows whether a signal is pending). */
#define MIX_BATCHES 20
#define MIX_BATCH 4
#define MIX_SINGLES 10
#define MIX_TIMEOUTS 5
#define MIX_POLLS 6
#define MIX_POLL_DELAY_MS 10

static void mix(void)
{
    io_context_t ctx = new_ctx(16);
    struct io_event evs[MIX_BATCH];
    long submit_calls = 0, ios = 0, reaped = 0;

    for (int batch = 0; batch < MIX_BATCHES; batch++) {
        submit_zero_reads(ctx, MIX_BATCH, batch * MIX_BATCH);
        submit_calls++, ios += MIX_BATCH;
        reaped += io_getevents(ctx, MIX_BATCH, MIX_BATCH, evs, NULL);
    }
    for (int single = 0; single < MIX_SINGLES; single++) {
        submit_zero_reads(ctx, 1, single);
        submit_calls++, ios += 1;
        reaped += io_pgetevents(ctx, 1, 1, evs, NULL, NULL);
    }
    struct timespec five_ms = {0, 5000000};
    long timed_out = 0;
    for (int wait = 0; wait < MIX_TIMEOUTS; wait++)
        timed_out += io_getevents(ctx, 1, 1, evs, &five_ms) == 0;
    CHECK("waits on an empty ring time out with 0 events", timed_out, MIX_TIMEOUTS);

    REQUIRE("pipe", pipe(pipe_fds) == 0);
    writer_delay_ms = MIX_POLL_DELAY_MS;
    sigset_t nothing_blocked;
    sigemptyset(&nothing_blocked);
    for (int poll = 0; poll < MIX_POLLS; poll++) {
        struct iocb cb, *ptr = &cb;
        io_prep_poll(&cb, pipe_fds[0], POLLIN);
        pthread_t writer = start_thread(write_later, NULL);
        int accepted = io_submit(ctx, 1, &ptr);
        REQUIRE("io_submit of a poll", accepted == 1);
        submit_calls++, ios += accepted;
        int got = poll % 2 ? io_pgetevents(ctx, 1, 1, evs, NULL, &nothing_blocked) : io_getevents(ctx, 1, 1, evs, NULL);
        reaped += got == 1 && (evs[0].res & POLLIN);
        pthread_join(writer, NULL);
        char byte;
        REQUIRE("read the byte back", read(pipe_fds[0], &byte, 1) == 1);
    }
    CHECK("every I/O was reaped once, successfully", reaped, ios);
    printf("submit_calls %ld\nios %ld\n", submit_calls, ios);
    printf("waits_at_least %d\nwait_us_at_least %ld\n", MIX_TIMEOUTS + MIX_POLLS / 2, MIX_TIMEOUTS * five_ms.tv_nsec / 1000);
    CHECK("io_destroy", io_destroy(ctx), 0);
}

#define EFAULT_READS 3
#define EINVAL_READS 2

static void res_errors(const char *path)
{
    io_context_t ctx = new_ctx(8);
    struct iocb cbs[EFAULT_READS + EINVAL_READS], *ptrs[EFAULT_READS + EINVAL_READS];
    char *unmapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE("mmap", unmapped != MAP_FAILED);
    REQUIRE("munmap", munmap(unmapped, 4096) == 0);
    for (int i = 0; i < EFAULT_READS; i++)
        io_prep_pread(&cbs[i], open_dev_zero(), unmapped, ZERO_READ_BYTES, 0);

    int fd = open(path, O_RDONLY | O_DIRECT);
    REQUIRE("open with O_DIRECT", fd >= 0);
    char *aligned;
    REQUIRE("posix_memalign", posix_memalign((void **)&aligned, 4096, 2 * 4096) == 0);
    for (int i = EFAULT_READS; i < EFAULT_READS + EINVAL_READS; i++)
        io_prep_pread(&cbs[i], fd, aligned + 1, 4096, 0);

    for (int i = 0; i < EFAULT_READS + EINVAL_READS; i++)
        ptrs[i] = &cbs[i];
    CHECK("io_submit accepts all five reads", io_submit(ctx, EFAULT_READS + EINVAL_READS, ptrs),
          EFAULT_READS + EINVAL_READS);
    struct io_event evs[EFAULT_READS + EINVAL_READS];
    struct timespec one_second = {1, 0};
    int got = io_getevents(ctx, EFAULT_READS + EINVAL_READS, EFAULT_READS + EINVAL_READS, evs, &one_second);
    CHECK("io_getevents reaps all five", got, EFAULT_READS + EINVAL_READS);
    int efaults = 0, einvals = 0;
    for (int i = 0; i < got; i++) {
        efaults += evs[i].res == -EFAULT;
        einvals += evs[i].res == -EINVAL;
    }
    CHECK("reads into unmapped memory: res -EFAULT", efaults, EFAULT_READS);
    CHECK("O_DIRECT reads into a misaligned buffer: res -EINVAL (if not, the filesystem takes them)", einvals,
          EINVAL_READS);
    CHECK("io_destroy", io_destroy(ctx), 0);
}

#define PARENT_FORK_READS 3
#define CHILD_FORK_READS 2

static void fork_mode(void)
{
    io_context_t ctx = new_ctx(8);
    submit_zero_reads(ctx, PARENT_FORK_READS, 0);
    struct io_event evs[PARENT_FORK_READS];
    CHECK("parent: its reads", io_getevents(ctx, PARENT_FORK_READS, PARENT_FORK_READS, evs, NULL), PARENT_FORK_READS);
    printf("parent_pid %d\n", getpid());
    fflush(stdout);
    pid_t child = fork();
    REQUIRE("fork", child >= 0);
    if (child == 0) {
        io_context_t own = new_ctx(8);
        submit_zero_reads(own, CHILD_FORK_READS, 0);
        CHECK("child: its reads", io_getevents(own, CHILD_FORK_READS, CHILD_FORK_READS, evs, NULL), CHILD_FORK_READS);
        CHECK("child: io_destroy of its context", io_destroy(own), 0);
        printf("child_pid %d\n", getpid());
        exit(check_finish()); /* exit, not _exit: the process report is written at exit */
    }
    int status;
    REQUIRE("waitpid", waitpid(child, &status, 0) == child);
    CHECK("the child exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0, 1);
    CHECK("parent: io_destroy", io_destroy(ctx), 0);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "blocking-pipe") == 0 && argc == 3)
        blocking_pipe(atol(argv[2]));
    else if (strcmp(mode, "direct-reads") == 0 && argc == 4)
        direct_reads(argv[2], atol(argv[3]));
    else if (strcmp(mode, "mix") == 0 && argc == 2)
        mix();
    else if (strcmp(mode, "res-errors") == 0 && argc == 3)
        res_errors(argv[2]);
    else if (strcmp(mode, "fork") == 0 && argc == 2)
        fork_mode();
    else
        REQUIRE("usage: report blocking-pipe FAST | direct-reads FILE US | mix | res-errors FILE | fork", 0);
    return check_finish();
}
