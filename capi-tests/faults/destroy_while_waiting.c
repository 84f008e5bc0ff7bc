/* One thread destroys a context while others wait on it: every waiter comes
 * back (with -EINVAL from the dead context), nothing crashes or hangs, and
 * each completion reaped before the end was reaped exactly once.
 *
 * Half the waiters block in io_getevents (one in io_pgetevents); with
 * FAULTS_SPINNERS=1 the other half poll with a zero timeout, which our
 * library serves from the ring in user space, racing the blocked ones and
 * io_destroy. (Upstream would read the unmapped ring there and crash.)
 * FAULTS_ROUNDS=n runs n rounds instead of 12 (valgrind runs one). */
#include "faults.h"

#define WAITERS 4
#define READS 512

struct waiter {
    pthread_t thread;
    pid_t tid;
    io_context_t ctx;
    int spins, use_pgetevents;
    int last; /* what ended its loop */
};

static int reaped_count[READS];
static long reaped_total;

static void *wait_on(void *arg)
{
    struct waiter *w = arg;
    struct io_event ev[4];
    __atomic_store_n(&w->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
    for (;;) {
        int n = w->spins ? io_getevents(w->ctx, 0, 4, ev, ZERO_TIMEOUT)
                : w->use_pgetevents ? io_pgetevents(w->ctx, 1, 4, ev, NULL, NULL)
                                    : io_getevents(w->ctx, 1, 4, ev, NULL);
        if (n < 0) {
            w->last = n;
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            long id = (long)ev[i].data;
            if (id >= 0 && id < READS && ev[i].res == ZERO_READ_BYTES)
                __atomic_fetch_add(&reaped_count[id], 1, __ATOMIC_RELAXED);
        }
        __atomic_fetch_add(&reaped_total, n, __ATOMIC_RELEASE);
    }
}

int main(void)
{
    int spinners = getenv("FAULTS_SPINNERS") && atoi(getenv("FAULTS_SPINNERS"));
    int rounds = getenv("FAULTS_ROUNDS") ? atoi(getenv("FAULTS_ROUNDS")) : 12;
    /* Kernels before 4.18, and valgrind 3.19, do not have it. */
    int have_pgetevents = io_pgetevents(NULL, 0, 0, NULL, NULL, NULL) != -ENOSYS;
    int all_returned = 1, all_einval = 1, exactly_once = 1, destroyed = 1;
    struct iocb cbs[READS];
    watchdog(60);
    for (int round = 0; round < rounds; round++) {
        io_context_t ctx = new_ctx(64);
        struct waiter waiters[WAITERS];
        memset(reaped_count, 0, sizeof reaped_count);
        reaped_total = 0;
        for (int i = 0; i < WAITERS; i++) {
            waiters[i] = (struct waiter){
                .ctx = ctx,
                .spins = spinners && i % 2,
                .use_pgetevents = have_pgetevents && i == 2,
            };
            REQUIRE("pthread_create", pthread_create(&waiters[i].thread, NULL, wait_on, &waiters[i]) == 0);
        }
        /* Reads complete in io_submit; the waiters take them as they come. */
        for (int id = 0; id < READS; id++) {
            prep_zero_read(&cbs[id], id);
            while (io_submit(ctx, 1, (struct iocb *[]){&cbs[id]}) == -EAGAIN)
                sched_yield();
        }
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        while (__atomic_load_n(&reaped_total, __ATOMIC_ACQUIRE) < READS && elapsed_ms(&start) < 5000)
            sleep_ms(1);
        /* The blocking waiters are back in the kernel, waiting for more. */
        for (int i = 0; i < WAITERS; i++) {
            pid_t tid;
            while ((tid = __atomic_load_n(&waiters[i].tid, __ATOMIC_ACQUIRE)) == 0)
                sched_yield();
            if (!waiters[i].spins)
                wait_until_reaping(tid);
        }
        destroyed &= LIB(io_destroy(ctx)) == 0;
        for (int i = 0; i < WAITERS; i++) {
            pthread_join(waiters[i].thread, NULL);
            all_einval &= waiters[i].last == -EINVAL;
        }
        for (int id = 0; id < READS; id++)
            exactly_once &= reaped_count[id] == 1;
        all_returned &= reaped_total == READS;
    }
    printf("%d rounds of %d waiters (%s) reaping %d reads, then io_destroy\n", rounds, WAITERS,
           spinners ? "half of them polling with a zero timeout" : "all blocking", READS);
    CHECK_TRUE("io_destroy while threads wait returns 0", destroyed);
    CHECK_TRUE("every waiter comes back with -EINVAL", all_einval);
    CHECK_TRUE("every completion was reaped before the end", all_returned);
    CHECK_TRUE("each exactly once", exactly_once);
    return check_finish();
}
