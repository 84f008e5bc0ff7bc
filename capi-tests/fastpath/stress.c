/* The ledger test: submitter and reaper threads share one context for many
 * seconds, and every I/O must be reaped exactly once with its own data, obj
 * and res. Reapers mix zero-timeout polls, short waits, waits without a
 * timeout, io_pgetevents and io_queue_run; completions arrive inside
 * io_submit (reads of /dev/zero) and later from the kernel (polls of
 * eventfds that another thread writes, and with FASTPATH_LOOP_DEVICE set,
 * O_DIRECT reads of that loop device). Each phase ends with io_destroy
 * while reapers still wait in io_getevents.
 *
 * FASTPATH_STRESS_SECONDS (default 10) sets the length of the two main phases,
 * FASTPATH_STRESS_MIN_IOS (default 100000) the I/Os they must make in all for
 * the run to count as stress: a slower machine (an emulated one) sets less. */
#include "fastpath.h"
#include <poll.h>
#include <sys/eventfd.h>

enum source { ZERO_READ, EVENTFD_POLL, LOOP_READ, SOURCES };
static const char *const source_names[SOURCES] = {"reads of /dev/zero", "eventfd polls", "loop device reads"};
static const long expected_res[SOURCES] = {ZERO_READ_BYTES, POLLIN, 4096};

#define OPS 256 /* I/Os in flight at most, and the context's maxevents */
#define MAX_IDS (8 << 20)
#define IO_BYTES 4096

/* One I/O slot, reused once its completion has been reaped. */
struct op {
    struct iocb cb; /* first, so that an event's obj is its op */
    long id;
    enum source source;
    int in_flight;
    int eventfd; /* its polls' own */
};

static struct op ops[OPS];
static char (*buffers)[IO_BYTES];
static int loop_fd = -1;
static long loop_blocks;

/* The phase under way. */
static const char *phase_name;
static io_context_t ctx;
static int data_is_callback, sources;
static unsigned char *submitted, *reaped; /* by id */
static long next_id, stop_submitting, destroying, stop_completing_polls;
static long by_source[SOURCES], short_submits, eagain_submits, failures;

/* Reports the first few failures as they happen; all are counted. */
#define FAIL(format, ...)                                                        \
    do {                                                                         \
        if (__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED) < 10) {           \
            printf("not ok %s: " format "\n", phase_name, __VA_ARGS__);          \
            fflush(stdout);                                                      \
        }                                                                        \
    } while (0)

static void on_callback(io_context_t c, struct iocb *iocb, long res, long res2);

/* The ledger entry for one completion, however it was reaped. */
static void account(void *data, struct iocb *obj, long res, long res2)
{
    struct op *op = (struct op *)obj;
    uintptr_t offset = (uintptr_t)obj - (uintptr_t)ops;
    if (offset >= sizeof ops || offset % sizeof *op != 0) {
        FAIL("completion for an iocb that was never submitted: %p", (void *)obj);
        return;
    }
    long id = op->id;
    if (!__atomic_load_n(&op->in_flight, __ATOMIC_ACQUIRE))
        FAIL("completion for id %ld, whose iocb is not in flight (reaped twice?)", id);
    if (data != (data_is_callback ? (void *)on_callback : (void *)id))
        FAIL("completion of id %ld has data %p", id, data);
    if (res != expected_res[op->source] || res2 != 0)
        FAIL("completion of id %ld (%s) has res %ld res2 %ld, want %ld 0", id, source_names[op->source], res, res2,
             expected_res[op->source]);
    if (__atomic_fetch_add(&reaped[id], 1, __ATOMIC_RELAXED) != 0)
        FAIL("id %ld reaped twice", id);
    __atomic_fetch_add(&by_source[op->source], 1, __ATOMIC_RELAXED);
    __atomic_store_n(&op->in_flight, 0, __ATOMIC_RELEASE);
}

static __thread long callback_events;

static void on_callback(io_context_t c, struct iocb *iocb, long res, long res2)
{
    (void)c;
    account((void *)on_callback, iocb, res, res2);
    callback_events++;
}

static void prepare(struct op *op, long id)
{
    op->id = id;
    /* Read by complete_polls while the op may be prepared again. */
    __atomic_store_n(&op->source, id % sources, __ATOMIC_RELAXED);
    char *buffer = buffers[op - ops];
    switch (op->source) {
    case ZERO_READ:
        prep_zero_read(&op->cb, 0);
        op->cb.u.c.buf = buffer;
        break;
    case EVENTFD_POLL: {
        uint64_t count;
        if (read(op->eventfd, &count, sizeof count) != sizeof count) /* not readable until written again */
            REQUIRE("read of an eventfd", errno == EAGAIN);
        io_prep_poll(&op->cb, op->eventfd, POLLIN);
        break;
    }
    case LOOP_READ:
        io_prep_pread(&op->cb, loop_fd, buffer, IO_BYTES, id * 7919 % loop_blocks * IO_BYTES);
        break;
    case SOURCES:
        break;
    }
    if (data_is_callback)
        io_set_callback(&op->cb, on_callback);
    else
        op->cb.data = (void *)id;
}

struct submitter {
    int first_op, ops;
    pthread_t thread;
};

/* Submits batches of up to 8 of its own free ops until told to stop. */
static void *submit(void *arg)
{
    struct submitter *self = arg;
    int cursor = 0;
    while (!__atomic_load_n(&stop_submitting, __ATOMIC_RELAXED)) {
        struct iocb *batch[8];
        struct op *picked[8];
        int count = 0;
        for (int scanned = 0; scanned < self->ops && count < 8; scanned++) {
            struct op *op = &ops[self->first_op + cursor];
            cursor = (cursor + 1) % self->ops;
            if (__atomic_load_n(&op->in_flight, __ATOMIC_ACQUIRE))
                continue;
            long id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
            if (id >= MAX_IDS) {
                __atomic_store_n(&stop_submitting, 1, __ATOMIC_RELAXED);
                break;
            }
            prepare(op, id);
            submitted[id] = 1;
            __atomic_store_n(&op->in_flight, 1, __ATOMIC_RELEASE);
            picked[count] = op;
            batch[count++] = &op->cb;
        }
        if (count == 0) {
            sched_yield();
            continue;
        }
        int ret = io_submit(ctx, count, batch);
        int accepted = ret < 0 ? 0 : ret;
        if (ret == -EAGAIN)
            __atomic_fetch_add(&eagain_submits, 1, __ATOMIC_RELAXED);
        else if (ret < 0)
            FAIL("io_submit of %d: %d", count, ret);
        else if (ret < count)
            __atomic_fetch_add(&short_submits, 1, __ATOMIC_RELAXED);
        for (int i = accepted; i < count; i++) {
            submitted[picked[i]->id] = 0;
            __atomic_store_n(&picked[i]->in_flight, 0, __ATOMIC_RELEASE);
        }
    }
    return NULL;
}

/* Every millisecond, writes the eventfd of each poll in flight. Nothing
 * reads it before the op's next poll, so the kernel cannot miss it. */
static void *complete_polls(void *unused)
{
    struct timespec pause = {0, 1000000};
    const uint64_t one = 1;
    (void)unused;
    while (!__atomic_load_n(&stop_completing_polls, __ATOMIC_RELAXED)) {
        for (int i = 0; i < OPS; i++)
            if (__atomic_load_n(&ops[i].in_flight, __ATOMIC_ACQUIRE) &&
                __atomic_load_n(&ops[i].source, __ATOMIC_RELAXED) == EVENTFD_POLL)
                REQUIRE("write to an eventfd", write(ops[i].eventfd, &one, sizeof one) == sizeof one);
        nanosleep(&pause, NULL);
    }
    return NULL;
}

enum reaping_call { GETEVENTS, PGETEVENTS, QUEUE_RUN };
#define NO_TIMEOUT (-1)

struct reaper {
    enum reaping_call call;
    long min_nr, nr;
    long timeout_us; /* or NO_TIMEOUT */
    long events;
    pthread_t thread;
};

static void describe(const struct reaper *r, char *out, size_t size)
{
    static const char *const names[] = {"io_getevents", "io_pgetevents", "io_queue_run"};
    if (r->call == QUEUE_RUN)
        snprintf(out, size, "%s", names[r->call]);
    else if (r->timeout_us == NO_TIMEOUT)
        snprintf(out, size, "%s, min_nr %ld, nr %ld, no timeout", names[r->call], r->min_nr, r->nr);
    else
        snprintf(out, size, "%s, min_nr %ld, nr %ld, timeout %ld us", names[r->call], r->min_nr, r->nr,
                 r->timeout_us);
}

/* Reaps in its own way until io_destroy makes the context unknown. */
static void *reap(void *arg)
{
    struct reaper *self = arg;
    struct io_event ev[32];
    struct timespec timeout = {self->timeout_us / 1000000, self->timeout_us % 1000000 * 1000};
    struct timespec *timeout_ptr = self->timeout_us == NO_TIMEOUT ? NULL : &timeout;
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    for (;;) {
        int ret;
        switch (self->call) {
        case GETEVENTS:
            ret = io_getevents(ctx, self->min_nr, self->nr, ev, timeout_ptr);
            break;
        case PGETEVENTS:
            ret = io_pgetevents(ctx, self->min_nr, self->nr, ev, timeout_ptr, &mask);
            break;
        case QUEUE_RUN:
            ret = io_queue_run(ctx);
            break;
        }
        if (ret < 0) {
            if (ret != -EINVAL || !__atomic_load_n(&destroying, __ATOMIC_ACQUIRE)) {
                char what[80];
                describe(self, what, sizeof what);
                FAIL("%s: %d", what, ret);
            }
            return NULL;
        }
        if (self->call == QUEUE_RUN) { /* the callbacks did the accounting */
            ret = callback_events;
            callback_events = 0;
        } else {
            for (int i = 0; i < ret; i++)
                account(ev[i].data, ev[i].obj, ev[i].res, ev[i].res2);
        }
        self->events += ret;
        if (ret == 0)
            sched_yield();
    }
}

enum ending { DRAIN_THEN_DESTROY, DESTROY_AT_ONCE };

struct phase {
    const char *name;
    int callbacks;
    int loop_reads; /* if there is a loop device */
    int submitters;
    double seconds;
    enum ending ending;
    int reapers;
    struct reaper *reaper;
};

static int same_calls(const struct reaper *a, const struct reaper *b)
{
    return a->call == b->call && a->min_nr == b->min_nr && a->nr == b->nr && a->timeout_us == b->timeout_us;
}

static long count_in_flight(void)
{
    long count = 0;
    for (int i = 0; i < OPS; i++)
        count += __atomic_load_n(&ops[i].in_flight, __ATOMIC_ACQUIRE);
    return count;
}

static void join_within(pthread_t thread, int seconds, const char *what)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    if (pthread_timedjoin_np(thread, NULL, &deadline) != 0) {
        printf("not ok %s: still running %d s after io_destroy\n", what, seconds);
        exit(1);
    }
}

/* Runs one phase; returns how many I/Os it submitted. */
static long run(const struct phase *phase)
{
    struct submitter submitters[phase->submitters];
    pthread_t poll_completer;
    struct timespec start;
    char name[256];

    for (int i = 0; i < OPS; i++) {
        int fd = ops[i].eventfd;
        ops[i] = (struct op){.eventfd = fd};
    }
    memset(by_source, 0, sizeof by_source);
    submitted = calloc(MAX_IDS, 1);
    reaped = calloc(MAX_IDS, 1);
    REQUIRE("memory for the ledger", submitted && reaped);
    next_id = stop_submitting = destroying = stop_completing_polls = 0;
    short_submits = eagain_submits = failures = 0;
    phase_name = phase->name;
    data_is_callback = phase->callbacks;
    sources = phase->loop_reads && loop_fd >= 0 ? SOURCES : LOOP_READ;
    ctx = new_ctx(OPS);

    pthread_create(&poll_completer, NULL, complete_polls, NULL);
    for (int i = 0; i < phase->reapers; i++)
        pthread_create(&phase->reaper[i].thread, NULL, reap, &phase->reaper[i]);
    for (int i = 0; i < phase->submitters; i++) {
        submitters[i] = (struct submitter){i * OPS / phase->submitters, OPS / phase->submitters, 0};
        pthread_create(&submitters[i].thread, NULL, submit, &submitters[i]);
    }
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (elapsed_ms(&start) < phase->seconds * 1000 && !__atomic_load_n(&stop_submitting, __ATOMIC_RELAXED))
        sleep_ms(10);
    __atomic_store_n(&stop_submitting, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < phase->submitters; i++)
        pthread_join(submitters[i].thread, NULL);
    if (phase->ending == DRAIN_THEN_DESTROY) {
        struct timespec drain;
        clock_gettime(CLOCK_MONOTONIC, &drain);
        while (count_in_flight() > 0 && elapsed_ms(&drain) < 10000)
            sleep_ms(1);
        snprintf(name, sizeof name, "%s: every I/O reaped before io_destroy", phase->name);
        CHECK(name, count_in_flight(), 0);
    } else {
        /* Polls stay in flight: io_destroy cancels them. */
        __atomic_store_n(&stop_completing_polls, 1, __ATOMIC_RELAXED);
        pthread_join(poll_completer, NULL);
    }
    sleep_ms(20); /* lets the reapers without a timeout go back to sleep in the kernel */
    __atomic_store_n(&destroying, 1, __ATOMIC_RELEASE);
    snprintf(name, sizeof name, "%s: io_destroy while reapers wait", phase->name);
    CHECK(name, io_destroy(ctx), 0);
    for (int i = 0; i < phase->reapers; i++)
        join_within(phase->reaper[i].thread, 10, "a reaper");
    if (phase->ending == DRAIN_THEN_DESTROY) {
        __atomic_store_n(&stop_completing_polls, 1, __ATOMIC_RELAXED);
        pthread_join(poll_completer, NULL);
    }

    long ids = next_id < MAX_IDS ? next_id : MAX_IDS, sent = 0, got = 0, wrong = 0;
    for (long id = 0; id < ids; id++) {
        sent += submitted[id];
        got += reaped[id];
        wrong += reaped[id] > submitted[id];
    }
    long in_flight = count_in_flight();
    printf("# %s: %ld I/Os in %.1f s, %ld reaped (%ld %s, %ld %s, %ld %s), %ld left to io_destroy\n", phase->name,
           sent, elapsed_ms(&start) / 1000.0, got, by_source[ZERO_READ], source_names[ZERO_READ],
           by_source[EVENTFD_POLL], source_names[EVENTFD_POLL], by_source[LOOP_READ], source_names[LOOP_READ],
           in_flight);
    for (int i = 0, alike; i < phase->reapers; i += alike) {
        long events = 0;
        for (alike = 0; i + alike < phase->reapers && same_calls(&phase->reaper[i], &phase->reaper[i + alike]); alike++)
            events += phase->reaper[i + alike].events;
        describe(&phase->reaper[i], name, sizeof name);
        printf("#   %d x %s: %ld events\n", alike, name, events);
    }
    snprintf(name, sizeof name, "%s: no completion reaped twice or wrong", phase->name);
    CHECK(name, failures + wrong, 0);
    snprintf(name, sizeof name, "%s: every I/O reaped or left in flight to io_destroy", phase->name);
    CHECK(name, got + in_flight, sent);
    snprintf(name, sizeof name, "%s: io_submit never short of slots with at most maxevents in flight", phase->name);
    CHECK(name, eagain_submits + short_submits, 0);
    free(submitted);
    free(reaped);
    return sent;
}

int main(void)
{
    const char *seconds_env = getenv("FASTPATH_STRESS_SECONDS");
    const char *loop_device = getenv("FASTPATH_LOOP_DEVICE");
    const char *min_ios_env = getenv("FASTPATH_STRESS_MIN_IOS");
    double seconds = seconds_env ? atof(seconds_env) : 10;
    long min_ios = min_ios_env ? atol(min_ios_env) : 100000;

    zero_read_fd = open_dev_zero();
    buffers = aligned_alloc(IO_BYTES, sizeof *buffers * OPS);
    REQUIRE("aligned buffers", buffers != NULL);
    for (int i = 0; i < OPS; i++)
        REQUIRE("eventfd", (ops[i].eventfd = eventfd(0, EFD_NONBLOCK)) >= 0);
    if (loop_device && *loop_device) {
        loop_fd = open(loop_device, O_RDONLY | O_DIRECT);
        REQUIRE("open of the loop device with O_DIRECT", loop_fd >= 0);
        loop_blocks = lseek(loop_fd, 0, SEEK_END) / IO_BYTES;
        REQUIRE("a loop device of at least one block", loop_blocks > 0);
    } else {
        printf("# FASTPATH_LOOP_DEVICE unset: no loop device reads\n");
    }

    /* A waiter for min_nr > 1 keeps the fewer events it has taken until it
     * returns: it gets a timeout, so that the phase can end with all I/Os
     * reaped. The waiter without a timeout is still there at io_destroy. */
    struct reaper mixed[] = {
        {GETEVENTS, 0, 16, 0, 0, 0},       {GETEVENTS, 0, 1, 0, 0, 0},  {GETEVENTS, 1, 8, 1000, 0, 0},
        {GETEVENTS, 4, 32, 100000, 0, 0}, {PGETEVENTS, 2, 16, 2000, 0, 0}, {GETEVENTS, 1, 1, NO_TIMEOUT, 0, 0},
    };
    struct reaper with_callbacks[] = {
        {QUEUE_RUN, 0, 0, 0, 0, 0},        {QUEUE_RUN, 0, 0, 0, 0, 0},     {GETEVENTS, 0, 4, 0, 0, 0},
        {GETEVENTS, 2, 16, 100000, 0, 0}, {GETEVENTS, 1, 8, 1000, 0, 0}, {GETEVENTS, 1, 1, NO_TIMEOUT, 0, 0},
    };
    /* More reaping threads than a busy server would have cores; no loop
     * device reads, whose kernel worker they would starve. */
    enum { MANY = 300 };
    struct reaper many[MANY];
    for (int i = 0; i < MANY; i++)
        many[i] = (struct reaper){GETEVENTS, 0, 8, 0, 0, 0};

    const struct phase phases[] = {
        {"mixed reapers", 0, 1, 2, seconds, DRAIN_THEN_DESTROY, sizeof mixed / sizeof mixed[0], mixed},
        {"io_queue_run among reapers", 1, 1, 2, seconds, DESTROY_AT_ONCE, sizeof with_callbacks / sizeof with_callbacks[0],
         with_callbacks},
        {"300 polling threads", 0, 0, 1, seconds / 2, DRAIN_THEN_DESTROY, MANY, many},
    };
    long ios = 0;
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++)
        ios += run(&phases[i]);
    printf("# %ld I/Os in all\n", ios);
    char floor[64];
    snprintf(floor, sizeof floor, "over %ld I/Os in all", min_ios);
    CHECK_TRUE(floor, ios > min_ios);
    return check_finish();
}
