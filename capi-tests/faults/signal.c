/* A signal (handled, without SA_RESTART) during a blocking io_getevents or
 * io_pgetevents: the caller gets -EINTR, or the events gathered before the
 * signal came; and no completion is lost: each is reaped later, once. */
#include "faults.h"

#define POLLS 4
#define READS 2

int main(void)
{
    struct iocb polls[POLLS], reads[READS];
    struct io_event ev[8];
    char buf[READS][64];
    struct waiting_signal later;
    sigset_t usr1, empty, old, now;
    int efd = eventfd(0, EFD_NONBLOCK), zero = open_dev_zero();
    REQUIRE("eventfd", efd >= 0);
    watchdog(20);
    interrupt_with_sigusr1();
    io_context_t ctx = new_ctx(16);

    /* POLLs of an eventfd at 0: they wait until it is written. */
    for (int i = 0; i < POLLS; i++) {
        io_prep_poll(&polls[i], efd, POLLIN);
        submit_one(ctx, &polls[i]);
    }
    signal_me_when_reaping(&later);
    CHECK("io_getevents waiting with nothing ready: a signal gives -EINTR",
          LIB(io_getevents(ctx, 1, 8, ev, NULL)), -EINTR);
    signal_sent(&later);

    /* Two reads complete in io_submit; waiting for a third is interrupted. */
    for (int i = 0; i < READS; i++) {
        io_prep_pread(&reads[i], zero, buf[i], sizeof buf[i], 0);
        submit_one(ctx, &reads[i]);
    }
    signal_me_when_reaping(&later);
    int got = LIB(io_getevents(ctx, READS + 1, 8, ev, NULL));
    CHECK("io_getevents waiting for 3 with 2 ready: a signal gives the 2 gathered", got, READS);
    signal_sent(&later);
    int whole = got == READS;
    for (int i = 0; whole && i < READS; i++)
        whole = ev[i].obj == &reads[i] && ev[i].res == sizeof buf[i];
    CHECK_TRUE("the gathered events are the two reads, in order, with their results", whole);

    /* SIGUSR1 blocked in the thread, unblocked by io_pgetevents's mask. */
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&empty);
    pthread_sigmask(SIG_BLOCK, &usr1, &old);
    signal_me_when_reaping(&later);
    CHECK("io_pgetevents whose mask unblocks a signal: -EINTR",
          LIB(io_pgetevents(ctx, 1, 8, ev, NULL, &empty)), -EINTR);
    signal_sent(&later);
    pthread_sigmask(SIG_BLOCK, NULL, &now);
    CHECK_TRUE("io_pgetevents puts the thread's mask back", sigismember(&now, SIGUSR1));
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    /* SIGUSR1 unblocked in the thread, blocked by io_pgetevents's mask. */
    int handled = signals_handled;
    struct timespec wait = {0, 300 * 1000000};
    signal_me_when_reaping(&later);
    CHECK("io_pgetevents whose mask blocks the signal: waits out its timeout",
          LIB(io_pgetevents(ctx, 1, 8, ev, &wait, &usr1)), 0);
    signal_sent(&later);
    CHECK("the blocked signal is handled once the call returns", signals_handled, handled + 1);

    /* Nothing was lost: every POLL completes once the eventfd is written. */
    uint64_t one = 1;
    REQUIRE("write to the eventfd", write(efd, &one, sizeof one) == sizeof one);
    int seen[POLLS] = {0}, total = 0;
    struct timespec second = {1, 0};
    while (total < POLLS) {
        int n = io_getevents(ctx, 1, 8, ev, &second);
        if (n <= 0)
            break;
        for (int i = 0; i < n; i++) {
            long index = (struct iocb *)ev[i].obj - polls;
            if (index >= 0 && index < POLLS && (ev[i].res & POLLIN))
                seen[index]++;
        }
        total += n;
    }
    CHECK("after the interruptions, the POLLs complete", total, POLLS);
    int once = 1;
    for (int i = 0; i < POLLS; i++)
        once &= seen[i] == 1;
    CHECK_TRUE("each POLL is reaped exactly once", once);
    CHECK("and nothing more is left", LIB(io_getevents(ctx, 0, 8, ev, ZERO_TIMEOUT)), 0);
    CHECK("io_destroy", LIB(io_destroy(ctx)), 0);
    return check_finish();
}
