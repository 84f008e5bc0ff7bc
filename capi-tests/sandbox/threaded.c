/* The sandbox with threads: they are created first, then the filter is
 * installed in all of them at once (SECCOMP_FILTER_FLAG_TSYNC), allowing
 * besides the single-threaded list what threads need to wait for one
 * another (futex) and what glibc may use when a thread starts or ends.
 *
 * For each of two contexts in turn, one thread submits reads of /dev/zero
 * while two reapers take them, each alternating zero-timeout polls with
 * waits, and a ledger checks that every read was reaped exactly once. Then
 * both reapers wait for more, inside the kernel, and the main thread
 * destroys the context: each must come back with -EINVAL, and the threads
 * go on to the next context.
 *
 * SANDBOX_POLL_THROUGH_DESTROY=1: the second reaper only polls, with a zero
 * timeout, on and on until io_destroy (for our library only: upstream reads
 * the destroyed, unmapped ring there and crashes). Its last answer must
 * still be -EINVAL, so the output stays the same. */
#include "sandbox.h"
#include <pthread.h>

/* On glibc 2.36 (seen with strace), a thread's end makes rt_sigprocmask,
 * madvise (to free its stack's pages) and exit, and pthread_join a futex
 * wait; munmap frees a stack the cache does not keep. rseq and
 * set_robust_list come at a thread's start, here before the filter. */
static const struct allowed_syscall allowed[] = {
    LIBAIO_AND_PROGRAM_SYSCALLS, ALLOW(futex),   ALLOW(rseq),   ALLOW(set_robust_list),
    ALLOW(rt_sigprocmask),       ALLOW(madvise), ALLOW(munmap),
};

enum { CONTEXTS = 2, REAPERS = 2, THREADS = REAPERS + 1, READS = 512, BATCH = 16, REAP_AT_ONCE = 8 };
#define READ_BYTES 8
static char read_buffers[READS][READ_BYTES];
static int zero_fd, poll_through_destroy;

/* What the threads share, under `lock`. `changed` is broadcast on each
 * change that a thread may wait for: a thread ready, a new round, the
 * submitter done, a reaper parked or done. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct {
    int threads_ready;
    int round; /* 1..CONTEXTS, then CONTEXTS + 1: the end */
    io_context_t ctx;
    int submitted, submit_failures, submitter_done;
    int reaped_total, bad_events, reaped_count[READS];
    int parked; /* reapers in a wait, or polling for good (see reap_round) */
    long last[REAPERS]; /* what ended each reaper's round */
    int reapers_done;
} shared;

static void lock_shared(void)
{
    pthread_mutex_lock(&lock);
}

static void unlock_shared(void)
{
    pthread_mutex_unlock(&lock);
}

static void announce(void)
{
    pthread_cond_broadcast(&changed);
}

/* With the lock held: waits for the next announced change. */
static void wait_for_change(void)
{
    pthread_cond_wait(&changed, &lock);
}

/* With the lock held: waits for the round after DONE_ROUND and returns it. */
static int next_round(int done_round)
{
    while (shared.round == done_round)
        wait_for_change();
    return shared.round;
}

static void *submit_reads(void *unused)
{
    static struct iocb cbs[READS];
    lock_shared();
    shared.threads_ready++;
    announce();
    for (int round = 0; (round = next_round(round)) <= CONTEXTS;) {
        io_context_t ctx = shared.ctx;
        unlock_shared();
        for (int first = 0; first < READS; first += BATCH) {
            struct iocb *batch[BATCH];
            for (int i = 0; i < BATCH; i++) {
                io_prep_pread(&cbs[first + i], zero_fd, read_buffers[first + i], READ_BYTES, 0);
                cbs[first + i].data = (void *)(long)(first + i);
                batch[i] = &cbs[first + i];
            }
            int n = io_submit(ctx, BATCH, batch);
            lock_shared();
            shared.submitted += n > 0 ? n : 0;
            shared.submit_failures += n != BATCH;
            unlock_shared();
        }
        lock_shared();
        shared.submitter_done = 1;
        announce();
    }
    unlock_shared();
    return NULL;
}

/* With the lock held: counts the N events in EVENTS in the ledger. */
static void record(const struct io_event *events, int n)
{
    for (int i = 0; i < n; i++) {
        long id = (long)events[i].data;
        if (id >= 0 && id < READS && events[i].res == READ_BYTES)
            shared.reaped_count[id]++;
        else
            shared.bad_events++;
    }
    shared.reaped_total += n;
}

/* With the lock held: reaps the round's context, alternating zero-timeout
 * polls with waits, until a call fails. Once every read is reaped, a
 * reaper waits for good, or polls for good in the poll-through mode, and
 * counts itself parked: then the main thread destroys the context. */
static void reap_round(int me)
{
    io_context_t ctx = shared.ctx;
    int polls_only = poll_through_destroy && me == REAPERS - 1, poller_parked = 0;
    for (int calls = 0;; calls++) {
        int all_reaped = shared.submitter_done && shared.reaped_total >= shared.submitted;
        int wait = !polls_only && (all_reaped || calls % 2 == 1);
        int park_poller = polls_only && all_reaped && !poller_parked;
        /* A wait counts while it lasts: once all is reaped, it lasts. */
        if (wait || park_poller) {
            shared.parked++;
            announce();
        }
        poller_parked |= park_poller;
        unlock_shared();
        struct io_event events[REAP_AT_ONCE];
        int n = wait ? io_getevents(ctx, 1, REAP_AT_ONCE, events, NULL)
                     : io_getevents(ctx, 0, REAP_AT_ONCE, events, ZERO_TIMEOUT);
        lock_shared();
        if (n < 0) {
            shared.last[me] = n;
            shared.reapers_done++;
            announce();
            return;
        }
        shared.parked -= wait;
        record(events, n);
    }
}

static void *reap(void *arg)
{
    int me = (int)(long)arg;
    lock_shared();
    shared.threads_ready++;
    announce();
    for (int round = 0; (round = next_round(round)) <= CONTEXTS;)
        reap_round(me);
    unlock_shared();
    return NULL;
}

/* With the lock held: whether the round's reads are all submitted and
 * reaped, and every reaper is parked in its last call. */
static int ready_to_destroy(void)
{
    return shared.submitter_done && shared.reaped_total >= shared.submitted && shared.parked == REAPERS;
}

static void run_round(int round)
{
    char step[200];
    io_context_t ctx = 0;
    snprintf(step, sizeof step, "context %d: io_setup(%d)", round, READS);
    expect(step, io_setup(READS, &ctx), 0);
    require("a context", ctx != 0);

    lock_shared();
    shared.ctx = ctx;
    shared.submitted = shared.submit_failures = shared.submitter_done = 0;
    shared.reaped_total = shared.bad_events = shared.parked = shared.reapers_done = 0;
    memset(shared.reaped_count, 0, sizeof shared.reaped_count);
    shared.round = round;
    announce();
    while (!ready_to_destroy())
        wait_for_change();
    int not_once = 0;
    for (int id = 0; id < READS; id++)
        not_once += shared.reaped_count[id] != 1;
    snprintf(step, sizeof step, "context %d: reads submitted, %d at a time, by one thread", round, BATCH);
    expect(step, shared.submitted, READS);
    snprintf(step, sizeof step, "context %d: failed io_submit calls", round);
    expect(step, shared.submit_failures, 0);
    snprintf(step, sizeof step, "context %d: events reaped by %d threads polling and waiting", round, REAPERS);
    expect(step, shared.reaped_total, READS);
    snprintf(step, sizeof step, "context %d: reads not reaped exactly once (the ledger)", round);
    expect(step, not_once, 0);
    snprintf(step, sizeof step, "context %d: events that are no whole read", round);
    expect(step, shared.bad_events, 0);
    unlock_shared();

    /* Upstream reads the ring before each call's syscall: the reapers get
     * this long to be inside theirs before the ring is unmapped. */
    const struct timespec grace = {0, 50 * 1000 * 1000};
    struct io_event event;
    snprintf(step, sizeof step, "context %d: io_getevents(min_nr 1) with a 50 ms timeout that expires", round);
    expect(step, io_getevents(ctx, 1, 1, &event, (struct timespec *)&grace), 0);
    snprintf(step, sizeof step, "context %d: io_destroy while the reapers are in their last call", round);
    expect(step, io_destroy(ctx), 0);

    lock_shared();
    while (shared.reapers_done < REAPERS)
        wait_for_change();
    for (int r = 0; r < REAPERS; r++) {
        snprintf(step, sizeof step, "context %d: reaper %d's last call", round, r + 1);
        expect(step, shared.last[r], -EINVAL);
    }
    unlock_shared();
}

int main(void)
{
    list_allowed_if_asked(allowed, ALLOWED_COUNT(allowed));
    poll_through_destroy = switched_on("SANDBOX_POLL_THROUGH_DESTROY");
    zero_fd = open("/dev/zero", O_RDONLY);
    require("open /dev/zero", zero_fd >= 0);
    /* Armed before the filter, it needs no syscall to end a hang (SIGALRM). */
    alarm(30);
    pthread_t threads[THREADS];
    require("pthread_create", pthread_create(&threads[0], NULL, submit_reads, NULL) == 0);
    for (long r = 0; r < REAPERS; r++)
        require("pthread_create", pthread_create(&threads[1 + r], NULL, reap, (void *)r) == 0);
    lock_shared();
    while (shared.threads_ready < THREADS)
        wait_for_change();
    unlock_shared();

    enter_sandbox(allowed, ALLOWED_COUNT(allowed), SECCOMP_FILTER_FLAG_TSYNC);

    for (int round = 1; round <= CONTEXTS; round++)
        run_round(round);
    lock_shared();
    shared.round = CONTEXTS + 1;
    announce();
    unlock_shared();
    int joined = 0;
    for (int t = 0; t < THREADS; t++)
        joined += pthread_join(threads[t], NULL) == 0;
    expect("pthread_join of the submitter and the reapers", joined, THREADS);
    return sandbox_failures ? 1 : 0;
}
