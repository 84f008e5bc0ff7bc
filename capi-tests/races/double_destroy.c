/* Issue 15, race 2: two threads destroying the same context at once. The
 * second must not let the kernel unmap the ring while the first still
 * waits for a reader that pinned it before the first's mark.
 *
 * Each round: POLLERS threads poll A (zero timeout) in a loop, reaping the
 * few reads submitted to it first; once each has polled a while, two
 * threads call io_destroy(A) together. Pollers that keep publishing their
 * claims hold the first destroyer in its wait for readers, where the
 * second meets it; a crash needs a poller stopped between its claim and
 * its read of the ring at that moment: hence many rounds (RACES_ROUNDS,
 * default 40). */
#include "races.h"

#define POLLERS 6
#define DESTROYERS 2
#define READS 4
#define POLLS_BEFORE_DESTROY 1000

static io_context_t ctx;
static pthread_barrier_t start, destroyers_meet;
static int pollers_warm, killed, destroys_returned, events_reaped;

static void *poll_until_destroyed(void *unused)
{
    struct io_event ev;
    int dead_seen = 0;
    (void)unused;
    pthread_barrier_wait(&start);
    for (int polls = 1;; polls++) {
        int began_after_kill = __atomic_load_n(&killed, __ATOMIC_ACQUIRE);
        int began_after_both = __atomic_load_n(&destroys_returned, __ATOMIC_ACQUIRE) == DESTROYERS;
        int ret = io_getevents(ctx, 0, 1, &ev, ZERO_TIMEOUT);
        if (!poll_answer_is_kernels(ret, 1, began_after_kill, &dead_seen))
            wrong_answer("a poll of A returns 0 or 1 while A lives, -EINVAL after", ret);
        if (ret == 1)
            __atomic_fetch_add(&events_reaped, 1, __ATOMIC_RELAXED);
        if (began_after_both)
            return NULL;
        if (polls == POLLS_BEFORE_DESTROY)
            __atomic_fetch_add(&pollers_warm, 1, __ATOMIC_RELEASE);
    }
}

static void *destroy_with_the_other(void *answer)
{
    pthread_barrier_wait(&start);
    while (__atomic_load_n(&pollers_warm, __ATOMIC_ACQUIRE) < POLLERS)
        sched_yield();
    pthread_barrier_wait(&destroyers_meet);
    int ret = io_destroy(ctx);
    if (ret == 0)
        __atomic_store_n(&killed, 1, __ATOMIC_RELEASE);
    *(int *)answer = ret;
    __atomic_fetch_add(&destroys_returned, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void destroy_twice_while_polled(void)
{
    pthread_t threads[POLLERS + DESTROYERS];
    int answers[DESTROYERS];
    ctx = new_ctx(READS);
    submit_zero_reads(ctx, READS, 0);
    REQUIRE("pthread_barrier_init", pthread_barrier_init(&start, NULL, POLLERS + DESTROYERS) == 0);
    REQUIRE("pthread_barrier_init", pthread_barrier_init(&destroyers_meet, NULL, DESTROYERS) == 0);
    for (int i = 0; i < POLLERS; i++)
        REQUIRE("pthread_create", pthread_create(&threads[i], NULL, poll_until_destroyed, NULL) == 0);
    for (int i = 0; i < DESTROYERS; i++)
        REQUIRE("pthread_create",
                pthread_create(&threads[POLLERS + i], NULL, destroy_with_the_other, &answers[i]) == 0);
    for (int i = 0; i < POLLERS + DESTROYERS; i++)
        pthread_join(threads[i], NULL);
    /* The kernel kills a context once: one io_destroy returns 0, the other -EINVAL. */
    int zeros = 0;
    for (int i = 0; i < DESTROYERS; i++) {
        zeros += answers[i] == 0;
        if (answers[i] != 0 && answers[i] != -EINVAL)
            wrong_answer("io_destroy(A) returns 0 or -EINVAL", answers[i]);
    }
    if (zeros != 1)
        wrong_answer("exactly one io_destroy(A) returns 0 (how many did)", zeros);
    if (events_reaped > READS)
        wrong_answer("the pollers reap no more events than were submitted (how many they reaped)", events_reaped);
}

int main(void)
{
    return run_rounds("double_destroy", rounds_to_run(40), destroy_twice_while_polled,
                      "while the first io_destroy(A) waited for a poller that had pinned A's ring, the second "
                      "went straight to the kernel, which unmapped the ring under that poller: see destroy in "
                      "src/contexts.rs");
}
