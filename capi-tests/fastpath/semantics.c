/* The fast path on a live context: what io_getevents, io_pgetevents,
 * io_queue_run and io_queue_wait return, and which of them reach the kernel.
 * A call that must wait is counted in the expected-syscall line; every other
 * call must be served from the ring, which suites/fastpath.sh checks with
 * strace. With the fast path off, or with the system libaio, every check
 * but the syscall count must pass unchanged. */
#include "fastpath.h"
#include <poll.h>
#include <setjmp.h>
#include <sys/eventfd.h>

static long expected_getevents, expected_pgetevents;

/* WAITING(counter, call): a library call that must go to the kernel. */
#define WAITING(counter, call) ((counter)++, LIB(call))

static struct timespec fifty_ms = {0, 50000000}, twenty_ms = {0, 20000000}, one_second = {1, 0};

/* Marks events the library must not write. */
static void poison(struct io_event *ev, int count)
{
    memset(ev, 0xa5, count * sizeof *ev);
}

static int poisoned(const struct io_event *ev)
{
    struct io_event unwritten;
    poison(&unwritten, 1);
    return memcmp(ev, &unwritten, sizeof unwritten) == 0;
}

static void reaps_ready_events_without_waiting(io_context_t ctx)
{
    struct io_event ev[8];
    struct timespec start;

    submit_zero_reads(ctx, 4, 100);
    poison(ev, 8);
    CHECK("io_getevents(min_nr 2, nr 3, no timeout), 4 ready: 3", LIB(io_getevents(ctx, 2, 3, ev, NULL)), 3);
    check_zero_events("io_getevents(min_nr 2, nr 3): the oldest 3, in order", ev, 3, 100);
    CHECK_TRUE("io_getevents(min_nr 2, nr 3): writes no 4th event", poisoned(&ev[3]));
    CHECK("io_getevents(min_nr 4 > 1 ready, zero timeout): what is there", LIB(io_getevents(ctx, 4, 8, ev, ZERO_TIMEOUT)), 1);
    check_zero_events("io_getevents(zero timeout): the 4th read", ev, 1, 103);
    CHECK("io_getevents(zero timeout) on an empty ring: 0", LIB(io_getevents(ctx, 0, 8, ev, ZERO_TIMEOUT)), 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK("io_getevents(min_nr 0, 1 s) on an empty ring: 0", LIB(io_getevents(ctx, 0, 8, ev, &one_second)), 0);
    CHECK_TRUE("io_getevents(min_nr 0, 1 s): returns at once", elapsed_ms(&start) < 500);

    submit_zero_reads(ctx, 3, 110);
    CHECK("io_pgetevents(min_nr 3, nr 8, no timeout, no mask), 3 ready: 3",
          LIB(io_pgetevents(ctx, 3, 8, ev, NULL, NULL)), 3);
    check_zero_events("io_pgetevents(min_nr 3): the 3 reads", ev, 3, 110);
    CHECK("io_pgetevents(zero timeout) on an empty ring: 0", LIB(io_pgetevents(ctx, 0, 8, ev, ZERO_TIMEOUT, NULL)), 0);
}

static void waits_in_the_kernel_for_min_nr(io_context_t ctx)
{
    struct io_event ev[8];
    struct timespec start;

    submit_zero_reads(ctx, 2, 200);
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK("io_getevents(min_nr 3, 50 ms), 2 ready: the 2 at the timeout",
          WAITING(expected_getevents, io_getevents(ctx, 3, 8, ev, &fifty_ms)), 2);
    CHECK_TRUE("io_getevents(min_nr 3, 50 ms): waits 50 ms", elapsed_ms(&start) >= 50);
    check_zero_events("io_getevents(min_nr 3, 50 ms): the 2 reads", ev, 2, 200);

    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK("io_getevents(min_nr 1, 20 ms) on an empty ring: 0 at the timeout",
          WAITING(expected_getevents, io_getevents(ctx, 1, 8, ev, &twenty_ms)), 0);
    CHECK_TRUE("io_getevents(min_nr 1, 20 ms): waits 20 ms", elapsed_ms(&start) >= 20);
}

static void *write_eventfd_after_100ms(void *fd)
{
    uint64_t one = 1;
    sleep_ms(100);
    REQUIRE("write to the eventfd", write(*(int *)fd, &one, sizeof one) == sizeof one);
    return NULL;
}

static void no_timeout_waits_for_a_late_event(io_context_t ctx)
{
    struct io_event ev;
    struct iocb poll_cb, *ptr = &poll_cb;
    struct timespec start;
    pthread_t writer;
    int fd = eventfd(0, 0);

    REQUIRE("eventfd", fd >= 0);
    io_prep_poll(&poll_cb, fd, POLLIN);
    poll_cb.data = (void *)300;
    REQUIRE("io_submit of a poll", io_submit(ctx, 1, &ptr) == 1);
    clock_gettime(CLOCK_MONOTONIC, &start);
    pthread_create(&writer, NULL, write_eventfd_after_100ms, &fd);
    CHECK("io_getevents(min_nr 1, no timeout): the poll the eventfd write completes",
          WAITING(expected_getevents, io_getevents(ctx, 1, 1, &ev, NULL)), 1);
    CHECK_TRUE("io_getevents(no timeout): waits for the write 100 ms later", elapsed_ms(&start) >= 100);
    CHECK("io_getevents(no timeout): the poll's data", (long)ev.data, 300);
    CHECK("io_getevents(no timeout): the poll's obj", ev.obj, &poll_cb);
    CHECK("io_getevents(no timeout): the poll's res", ev.res, POLLIN);
    pthread_join(writer, NULL);
    close(fd);
}

static volatile sig_atomic_t usr1_handled;
static void count_usr1(int sig)
{
    (void)sig;
    usr1_handled++;
}

static void *send_usr1_after_50ms(void *thread)
{
    sleep_ms(50);
    pthread_kill(*(pthread_t *)thread, SIGUSR1);
    return NULL;
}

/* Runs CALL while another thread sends SIGUSR1 to this one 50 ms later. */
#define WITH_USR1_IN_50MS(call)                                                  \
    ({                                                                           \
        pthread_t self_ = pthread_self(), sender_;                               \
        usr1_handled = 0;                                                        \
        pthread_create(&sender_, NULL, send_usr1_after_50ms, &self_);            \
        long ret_ = (call);                                                      \
        pthread_join(sender_, NULL);                                             \
        ret_;                                                                    \
    })

/* SIGUSR1 is blocked; io_pgetevents's mask unblocks it while it waits. */
static void pgetevents_applies_its_mask_when_it_waits(io_context_t ctx)
{
    struct sigaction action = {.sa_handler = count_usr1};
    sigset_t usr1, unblocked, blocked;
    struct io_event ev[4];
    struct timespec no_wait = {0, 0};

    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigaction(SIGUSR1, &action, NULL);
    pthread_sigmask(SIG_BLOCK, &usr1, &unblocked);
    pthread_sigmask(SIG_BLOCK, NULL, &blocked);

    CHECK("io_pgetevents(min_nr 1, no timeout, SIGUSR1 unblocked), empty ring: -EINTR on SIGUSR1",
          WITH_USR1_IN_50MS(WAITING(expected_pgetevents, io_pgetevents(ctx, 1, 1, ev, NULL, &unblocked))), -EINTR);
    CHECK("io_pgetevents(SIGUSR1 unblocked), empty ring: runs the handler", usr1_handled, 1);

    submit_zero_reads(ctx, 1, 400);
    CHECK("io_pgetevents(min_nr 2, no timeout, SIGUSR1 unblocked), 1 ready: that 1 on SIGUSR1",
          WITH_USR1_IN_50MS(WAITING(expected_pgetevents, io_pgetevents(ctx, 2, 4, ev, NULL, &unblocked))), 1);
    check_zero_events("io_pgetevents(SIGUSR1 unblocked), 1 ready: the read", ev, 1, 400);
    CHECK("io_pgetevents(SIGUSR1 unblocked), 1 ready: runs the handler", usr1_handled, 1);

    CHECK("io_pgetevents(min_nr 1, 200 ms, SIGUSR1 blocked), empty ring: 0 at the timeout",
          WITH_USR1_IN_50MS(WAITING(expected_pgetevents,
                                    io_pgetevents(ctx, 1, 1, ev, &(struct timespec){0, 200000000}, &blocked))), 0);
    CHECK("io_pgetevents(SIGUSR1 blocked): does not run the handler", usr1_handled, 0);
    CHECK("io_pgetevents(SIGUSR1 blocked): leaves SIGUSR1 pending", sigtimedwait(&usr1, NULL, &no_wait), SIGUSR1);
    pthread_sigmask(SIG_SETMASK, &unblocked, NULL);
}

static void queue_helpers_serve_ready_events(io_context_t ctx)
{
    struct iocb cbs[3], *ptrs[3];
    struct io_event ev[4];

    for (int i = 0; i < 3; i++) {
        prep_zero_read(&cbs[i], 0);
        io_set_callback(&cbs[i], record_call);
        ptrs[i] = &cbs[i];
    }
    REQUIRE("io_submit of 3 reads with callbacks", io_submit(ctx, 3, ptrs) == 3);
    recorded_count = 0;
    CHECK("io_queue_run, 3 ready: 0", LIB(io_queue_run(ctx)), 0);
    CHECK("io_queue_run, 3 ready: 3 callbacks", recorded_count, 3);
    for (int i = 0; i < 3 && i < recorded_count; i++) {
        CHECK("io_queue_run: a callback gets the context", recorded[i].ctx, ctx);
        CHECK("io_queue_run: callbacks get their iocb, in submission order", recorded[i].iocb, &cbs[i]);
        CHECK("io_queue_run: a callback gets res", recorded[i].res, ZERO_READ_BYTES);
        CHECK("io_queue_run: a callback gets res2", recorded[i].res2, 0);
    }
    CHECK("io_queue_run on an empty ring: 0", LIB(io_queue_run(ctx)), 0);
    CHECK("io_queue_run on an empty ring: no callback", recorded_count, 3);

    submit_zero_reads(ctx, 2, 500);
    CHECK("io_queue_wait(no timeout), 2 ready: 0", LIB(io_queue_wait(ctx, NULL)), 0);
    CHECK("io_queue_wait(zero timeout), 2 ready: 0", LIB(io_queue_wait(ctx, ZERO_TIMEOUT)), 0);
    CHECK("io_queue_wait leaves the events in the ring", LIB(io_getevents(ctx, 0, 4, ev, ZERO_TIMEOUT)), 2);
    check_zero_events("io_queue_wait leaves the events in the ring, in order", ev, 2, 500);
    CHECK("io_queue_wait(no timeout) on an empty ring: 0", LIB(io_queue_wait(ctx, NULL)), 0);
}

static jmp_buf leave_queue_run;
static void longjmp_out(io_context_t ctx, struct iocb *iocb, long res, long res2)
{
    record_call(ctx, iocb, res, res2);
    longjmp(leave_queue_run, 1);
}

/* Upstream takes one event at a time: events after the one whose callback
 * never returns are still in the ring. */
static void queue_run_left_by_longjmp_keeps_the_rest(io_context_t ctx)
{
    struct iocb cbs[3], *ptrs[3];
    struct io_event ev[4];

    for (int i = 0; i < 3; i++) {
        prep_zero_read(&cbs[i], 0);
        io_set_callback(&cbs[i], longjmp_out);
        ptrs[i] = &cbs[i];
    }
    REQUIRE("io_submit of 3 reads with callbacks", io_submit(ctx, 3, ptrs) == 3);
    recorded_count = 0;
    if (setjmp(leave_queue_run) == 0)
        io_queue_run(ctx);
    CHECK("io_queue_run left by longjmp from the first callback: 1 callback", recorded_count, 1);
    CHECK("io_queue_run left by longjmp: the other 2 events stay in the ring",
          LIB(io_getevents(ctx, 0, 4, ev, ZERO_TIMEOUT)), 2);
}

int main(void)
{
    io_context_t ctx = new_ctx(32);
    reaps_ready_events_without_waiting(ctx);
    waits_in_the_kernel_for_min_nr(ctx);
    no_timeout_waits_for_a_late_event(ctx);
    pgetevents_applies_its_mask_when_it_waits(ctx);
    queue_helpers_serve_ready_events(ctx);
    queue_run_left_by_longjmp_keeps_the_rest(ctx);
    CHECK("io_destroy", LIB(io_destroy(ctx)), 0);
    print_expected_syscalls(expected_getevents, expected_pgetevents);
    return check_finish();
}
