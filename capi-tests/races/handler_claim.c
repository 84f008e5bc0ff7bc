/* Issue 15, race 1: a signal handler that polls context B while its thread,
 * interrupted, was polling context A must not hide the thread's claim on
 * A's ring from io_destroy(A) in another thread. The interrupted poll
 * resumes after the handler returns and must not find the ring unmapped.
 *
 * Each round: POLLERS threads poll A (empty, zero timeout) in a loop; the
 * main thread sends each SIGUSR1 until its handler runs, then destroys A.
 * Each handler polls B until io_destroy(A) has returned, or for
 * HANDLER_SPIN_MS: a library that keeps A mapped for an interrupted poll
 * makes io_destroy wait until the handler returns. A signal lands anywhere
 * in its poller's loop, and only one landing between the poll's claim and
 * its read of the ring can crash: hence several pollers, and many rounds
 * (RACES_ROUNDS, default 60). */
#include "races.h"

#define POLLERS 2
#define HANDLER_SPIN_MS 100
#define POLLS_BEFORE_SIGNAL 1000

static io_context_t ctx_a, ctx_b;
static pthread_barrier_t start;
static int polls_of_a[POLLERS], handlers_entered, a_destroyed, handler_got;
static __thread int handler_ran;

static void poll_b_until_a_destroyed(int sig)
{
    (void)sig;
    /* Only the first signal: later ones were queued while it ran. */
    if (handler_ran++)
        return;
    __atomic_fetch_add(&handlers_entered, 1, __ATOMIC_ACQ_REL);
    struct timespec since;
    struct io_event ev;
    clock_gettime(CLOCK_MONOTONIC, &since);
    for (long polls = 1; !__atomic_load_n(&a_destroyed, __ATOMIC_ACQUIRE); polls++) {
        int ret = io_getevents(ctx_b, 0, 1, &ev, ZERO_TIMEOUT);
        if (ret != 0)
            __atomic_store_n(&handler_got, ret, __ATOMIC_RELAXED);
        /* The clock only now and then: the claim on B should fill the
         * thread's cell most of the time. */
        if (polls % 1024 == 0 && elapsed_ms(&since) > HANDLER_SPIN_MS)
            break;
    }
}

static void *poll_a(void *polls_done)
{
    struct io_event ev;
    int dead_seen = 0;
    pthread_barrier_wait(&start);
    for (int polls = 1;; polls++) {
        int began_after_destroy = __atomic_load_n(&a_destroyed, __ATOMIC_ACQUIRE);
        int ret = io_getevents(ctx_a, 0, 1, &ev, ZERO_TIMEOUT);
        if (!poll_answer_is_kernels(ret, 0, began_after_destroy, &dead_seen))
            wrong_answer("a poll of A returns 0 (or -EINTR) while A lives, -EINVAL after", ret);
        if (began_after_destroy)
            return NULL;
        __atomic_store_n((int *)polls_done, polls, __ATOMIC_RELAXED);
    }
}

static void destroy_during_handlers(void)
{
    pthread_t pollers[POLLERS];
    struct sigaction sa = {.sa_handler = poll_b_until_a_destroyed};
    sigemptyset(&sa.sa_mask);
    REQUIRE("sigaction", sigaction(SIGUSR1, &sa, NULL) == 0);
    ctx_a = new_ctx(8);
    ctx_b = new_ctx(8);
    REQUIRE("pthread_barrier_init", pthread_barrier_init(&start, NULL, POLLERS + 1) == 0);
    for (int i = 0; i < POLLERS; i++)
        REQUIRE("pthread_create", pthread_create(&pollers[i], NULL, poll_a, &polls_of_a[i]) == 0);
    pthread_barrier_wait(&start);
    for (int i = 0; i < POLLERS; i++)
        while (__atomic_load_n(&polls_of_a[i], __ATOMIC_RELAXED) < POLLS_BEFORE_SIGNAL)
            sched_yield();
    for (int i = 0; i < POLLERS; i++)
        while (__atomic_load_n(&handlers_entered, __ATOMIC_ACQUIRE) == i)
            pthread_kill(pollers[i], SIGUSR1);
    int destroyed = io_destroy(ctx_a);
    __atomic_store_n(&a_destroyed, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < POLLERS; i++)
        pthread_join(pollers[i], NULL);
    if (destroyed != 0)
        wrong_answer("io_destroy(A) returns 0", destroyed);
    if (handler_got != 0)
        wrong_answer("the handlers' polls of B return 0", handler_got);
}

int main(void)
{
    return run_rounds("handler_claim", rounds_to_run(60), destroy_during_handlers,
                      "a poll of A interrupted by a handler that polled B lost its claim on A's ring (the "
                      "handler's claim took its thread's only hazard cell), so io_destroy(A) let the kernel "
                      "unmap the ring under the interrupted read: see publish and wait_for_readers in "
                      "src/hazard.rs");
}
