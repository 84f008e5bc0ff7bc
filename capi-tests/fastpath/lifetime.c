/* Context ids that are not, or no longer, live contexts of this process:
 * every reaping call and io_destroy on them gets the kernel's -EINVAL, never
 * a crash, and never an event from memory that merely looks like a ring.
 * Also: a ring moved by mremap keeps working under its new address,
 * io_destroy copes with waiters and with a new context at the same address,
 * and a thread can still reap when it exits.
 * Each check runs in a child process; with FASTPATH_OBSERVE set they only
 * report what happens (suites/fastpath.sh shows upstream's behaviour so). */
#include "fastpath.h"
#include <sched.h>

#define FAKE_EVENT_ID 99

/* A page-aligned page laid out like a kernel ring, the kernel knows nothing
 * of it. Holding an event, io_queue_run would call its data as a function. */
static io_context_t fake_ring(int events)
{
    struct ring_header *ring = aligned_alloc(4096, 4096);
    REQUIRE("aligned_alloc", ring != NULL);
    memset(ring, 0, 4096);
    ring->nr = (4096 - sizeof *ring) / sizeof(struct io_event);
    ring->tail = events;
    ring->magic = RING_MAGIC;
    ring->compat_features = 1;
    ring->header_length = sizeof *ring;
    for (int i = 0; i < events; i++)
        ring->events[i] = (struct io_event){.data = (void *)FAKE_EVENT_ID, .res = ZERO_READ_BYTES};
    return (io_context_t)ring;
}

static io_context_t destroyed_context(void)
{
    io_context_t ctx = new_ctx(8);
    submit_zero_reads(ctx, 2, 1);
    REQUIRE("io_destroy of a context with events ready", io_destroy(ctx) == 0);
    return ctx;
}

static io_context_t null_context(void)
{
    return NULL;
}

static io_context_t all_ones_context(void)
{
    return (io_context_t)-1L;
}

static io_context_t fake_ring_with_an_event(void)
{
    return fake_ring(1);
}

static io_context_t fake_empty_ring(void)
{
    return fake_ring(0);
}

static const struct dead_context {
    const char *what;
    io_context_t (*make)(void);
    int fake; /* readable memory laid out as a ring */
} dead_contexts[] = {
    {"a destroyed context that had events ready", destroyed_context, 0},
    {"NULL", null_context, 0},
    {"(io_context_t)-1", all_ones_context, 0},
    {"a page that looks like a ring holding an event", fake_ring_with_an_event, 1},
    {"a page that looks like an empty ring", fake_empty_ring, 1},
};

static long getevents_waiting(io_context_t ctx)
{
    struct io_event ev[4];
    return LIB(io_getevents(ctx, 1, 4, ev, NULL));
}

static long getevents_polling(io_context_t ctx)
{
    struct io_event ev[4];
    return LIB(io_getevents(ctx, 0, 4, ev, ZERO_TIMEOUT));
}

static long pgetevents_waiting(io_context_t ctx)
{
    struct io_event ev[4];
    return LIB(io_pgetevents(ctx, 1, 4, ev, NULL, NULL));
}

static long queue_run(io_context_t ctx)
{
    return LIB(io_queue_run(ctx));
}

static long queue_wait(io_context_t ctx)
{
    return LIB(io_queue_wait(ctx, NULL));
}

static long destroy(io_context_t ctx)
{
    return LIB(io_destroy(ctx));
}

static const struct call {
    const char *what;
    long (*run)(io_context_t);
} calls[] = {
    {"io_getevents(min_nr 1, no timeout)", getevents_waiting},
    {"io_getevents(zero timeout)", getevents_polling},
    {"io_pgetevents(min_nr 1, no timeout)", pgetevents_waiting},
    {"io_queue_run", queue_run},
    {"io_queue_wait(no timeout)", queue_wait},
    {"io_destroy", destroy},
};

struct call_on_dead {
    const struct dead_context *context;
    const struct call *call;
    char name[160];
};

/* In a child: makes the context, makes the call; a fake ring must come out
 * of it untouched. */
static long call_on_dead_context(const void *arg)
{
    const struct call_on_dead *c = arg;
    io_context_t ctx = c->context->make();
    struct ring_header before = c->context->fake ? *RING_OF(ctx) : (struct ring_header){0};
    long ret = c->call->run(ctx);
    if (c->context->fake) {
        char name[256];
        snprintf(name, sizeof name, "%s: leaves the page alone", c->name);
        CHECK_TRUE(name, memcmp(&before, RING_OF(ctx), sizeof before) == 0);
    }
    return ret;
}

static void calls_on_dead_contexts_get_einval(void)
{
    for (size_t i = 0; i < sizeof dead_contexts / sizeof dead_contexts[0]; i++) {
        for (size_t j = 0; j < sizeof calls / sizeof calls[0]; j++) {
            struct call_on_dead c = {&dead_contexts[i], &calls[j], ""};
            snprintf(c.name, sizeof c.name, "%s on %s", calls[j].what, dead_contexts[i].what);
            check_isolated(c.name, call_on_dead_context, &c, -EINVAL, 10);
        }
    }
}

/* In a child: moves a ring with events in it, as CRIU does, and reaps the
 * rest of them and new ones under the new address. */
static long reap_after_mremap(const void *unused)
{
    struct io_event ev[8];
    io_context_t ctx = new_ctx(8);
    size_t size = sizeof(struct ring_header) + RING_OF(ctx)->nr * sizeof(struct io_event);
    (void)unused;

    submit_zero_reads(ctx, 3, 1);
    CHECK("before mremap: io_getevents(min_nr 1, nr 1): 1", LIB(io_getevents(ctx, 1, 1, ev, NULL)), 1);
    check_zero_events("before mremap: the first read", ev, 1, 1);
    void *target = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    void *moved = mremap((void *)ctx, size, size, MREMAP_MAYMOVE | MREMAP_FIXED, target);
    REQUIRE("mremap of the ring", moved == target && target != MAP_FAILED);
    ctx = (io_context_t)moved;
    CHECK("after mremap: io_getevents(zero timeout) on the new address: the 2 left",
          LIB(io_getevents(ctx, 0, 8, ev, ZERO_TIMEOUT)), 2);
    check_zero_events("after mremap: the 2 reads left, in order", ev, 2, 2);
    submit_zero_reads(ctx, 2, 4);
    CHECK("after mremap: io_getevents(min_nr 2, no timeout): 2 new ones", LIB(io_getevents(ctx, 2, 8, ev, NULL)), 2);
    check_zero_events("after mremap: the 2 new reads", ev, 2, 4);
    CHECK("after mremap: nothing more", LIB(io_getevents(ctx, 0, 8, ev, ZERO_TIMEOUT)), 0);
    return LIB(io_destroy(ctx));
}

static io_context_t waited_on;

static void *wait_for_an_event(void *result)
{
    struct io_event ev;
    *(long *)result = io_getevents(waited_on, 1, 1, &ev, NULL);
    return NULL;
}

/* In a child: io_destroy while two threads wait in io_getevents; they get
 * -EINVAL. Returns io_destroy's result. */
static long destroy_under_waiters(const void *unused)
{
    pthread_t waiters[2];
    long results[2];
    (void)unused;

    waited_on = new_ctx(8);
    for (int i = 0; i < 2; i++)
        pthread_create(&waiters[i], NULL, wait_for_an_event, &results[i]);
    sleep_ms(50);
    long ret = LIB(io_destroy(waited_on));
    for (int i = 0; i < 2; i++) {
        pthread_join(waiters[i], NULL);
        CHECK("io_destroy under waiters: a waiter gets -EINVAL", results[i], -EINVAL);
    }
    return ret;
}

/* The waiters below return late from the kernel: they run at SCHED_IDLE on
 * CPU 1 next to a busy thread, while the main thread takes CPU 0. */
static volatile int destroy_returned, hog_running, hog_stop;

static void pin_to_cpu(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set); /* best effort: one CPU only slows it */
}

static void *keep_cpu1_busy(void *unused)
{
    (void)unused;
    pin_to_cpu(1);
    hog_running = 1;
    while (!hog_stop)
        ;
    return NULL;
}

static void *wait_late(void *result)
{
    struct sched_param idle = {0};
    pin_to_cpu(1);
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
    return wait_for_an_event(result);
}

static void *destroy_waited_on(void *result)
{
    *(long *)result = io_destroy(waited_on);
    __atomic_store_n(&destroy_returned, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* In a child: io_destroy(A) while threads wait on A, and meanwhile this
 * thread's io_setup gets A's address back (the kernel unmaps the ring
 * before the waiters have returned). io_destroy must return and the new
 * context work. Returns io_destroy's result. */
static long destroy_while_the_address_is_reused(const void *unused)
{
    enum { WAITERS = 4 };
    pthread_t waiters[WAITERS], hog, destroyer;
    long results[WAITERS], destroy_result = 1;
    io_context_t reused = 0;
    struct io_event ev;
    (void)unused;

    pin_to_cpu(0);
    waited_on = new_ctx(64);
    for (int i = 0; i < WAITERS; i++)
        pthread_create(&waiters[i], NULL, wait_late, &results[i]);
    sleep_ms(20);
    pthread_create(&hog, NULL, keep_cpu1_busy, NULL);
    while (!hog_running)
        sleep_ms(1);
    pthread_create(&destroyer, NULL, destroy_waited_on, &destroy_result);
    /* New contexts go to the highest free gap: A's, once it is unmapped.
     * They are kept, so that each takes a new gap; when aio-max-nr is
     * reached first (a slow io_destroy), the address is not reused. */
    while (!__atomic_load_n(&destroy_returned, __ATOMIC_ACQUIRE)) {
        io_context_t ctx = 0;
        int r = io_setup(64, &ctx);
        if (r == -EAGAIN)
            break;
        REQUIRE("io_setup", r == 0);
        if (ctx == waited_on) {
            reused = ctx;
            break;
        }
    }
    printf("# io_setup %s the destroyed context's address before io_destroy returned\n",
           reused ? "got" : "did not get");
    pthread_join(destroyer, NULL);
    hog_stop = 1;
    for (int i = 0; i < WAITERS; i++) {
        pthread_join(waiters[i], NULL);
        CHECK("io_destroy under waiters while the address is reused: a waiter gets -EINVAL", results[i], -EINVAL);
    }
    if (reused) {
        submit_zero_reads(reused, 1, 1);
        CHECK("the context at the reused address: io_getevents: 1", LIB(io_getevents(reused, 1, 1, &ev, NULL)), 1);
        check_zero_events("the context at the reused address: the read", &ev, 1, 1);
    }
    return destroy_result;
}

/* A pthread key's destructor runs at thread exit, after the thread's C++
 * and Rust thread-local destructors: a library may not rely on those then. */
static pthread_key_t reap_at_exit_key;
static long reaped_at_exit;

static void reap_at_exit(void *ctx)
{
    struct io_event ev[4];
    reaped_at_exit = LIB(io_getevents((io_context_t)ctx, 0, 4, ev, ZERO_TIMEOUT));
}

static void *reap_now_and_at_exit(void *ctx)
{
    struct io_event ev;
    submit_zero_reads(ctx, 2, 1);
    CHECK("a thread reaps one of its two reads", LIB(io_getevents(ctx, 1, 1, &ev, NULL)), 1);
    pthread_setspecific(reap_at_exit_key, ctx);
    return NULL;
}

/* In a child: a thread leaves a read in the ring for its key destructor.
 * Returns what the destructor reaped. */
static long reap_in_a_key_destructor(const void *unused)
{
    pthread_t thread;
    (void)unused;
    pthread_key_create(&reap_at_exit_key, reap_at_exit);
    pthread_create(&thread, NULL, reap_now_and_at_exit, new_ctx(8));
    pthread_join(thread, NULL);
    return reaped_at_exit;
}

int main(void)
{
    calls_on_dead_contexts_get_einval();
    check_isolated("a ring moved by mremap keeps working: io_destroy of the new address", reap_after_mremap, NULL, 0,
                   10);
    check_isolated("io_destroy with two waiters in io_getevents", destroy_under_waiters, NULL, 0, 10);
    check_isolated("io_destroy with waiters while io_setup reuses the address", destroy_while_the_address_is_reused,
                   NULL, 0, 10);
    check_isolated("io_getevents in a pthread key destructor at thread exit: the read left for it",
                   reap_in_a_key_destructor, NULL, 1, 10);
    return check_finish();
}
