/* The LIBAIO_0.1 compat entries, reached the only way new code can reach
 * them: dlvsym. Old io_getevents had no min_nr (it waits for one event) and
 * old io_cancel had no result argument. */
#include "check.h"
#include <dlfcn.h>
#include <poll.h>
#include <sys/eventfd.h>

typedef int getevents_0_1_fn(io_context_t ctx, long nr, struct io_event *events, struct timespec *timeout);
typedef int cancel_0_1_fn(io_context_t ctx, struct iocb *iocb);
typedef int queue_wait_fn(io_context_t ctx, struct timespec *timeout);

static void *versioned(void *lib, const char *name, const char *version)
{
    void *sym = dlvsym(lib, name, version);
    char what[96];
    snprintf(what, sizeof what, "dlvsym %s@%s", name, version);
    REQUIRE(what, sym != NULL);
    return sym;
}

/* Both versions of io_queue_wait check the context without waiting or
 * consuming anything. */
static void check_queue_wait(const char *version, queue_wait_fn *queue_wait, io_context_t ctx, int zero)
{
    char name[128];
    struct timespec one_second = {1, 0};
    snprintf(name, sizeof name, "io_queue_wait@%s with a zero timeout", version);
    CHECK(name, queue_wait(ctx, ZERO_TIMEOUT), 0);
    snprintf(name, sizeof name, "io_queue_wait@%s with a NULL timeout", version);
    CHECK(name, queue_wait(ctx, NULL), 0);
    snprintf(name, sizeof name, "io_queue_wait@%s on a context the kernel does not know", version);
    CHECK(name, queue_wait(BOGUS_CTX, &one_second), -EINVAL);
    snprintf(name, sizeof name, "io_queue_wait@%s on NULL", version);
    CHECK(name, queue_wait(NULL, ZERO_TIMEOUT), -EINVAL);

    char buf[4];
    struct iocb cb;
    struct io_event ev;
    io_prep_pread(&cb, zero, buf, sizeof buf, 0);
    submit_one(ctx, &cb);
    snprintf(name, sizeof name, "io_queue_wait@%s with an event ready", version);
    CHECK(name, queue_wait(ctx, ZERO_TIMEOUT), 0);
    snprintf(name, sizeof name, "io_queue_wait@%s leaves the event in the ring", version);
    CHECK(name, io_getevents(ctx, 0, 1, &ev, ZERO_TIMEOUT), 1);
}

int main(void)
{
    void *lib = dlopen("libaio.so.1", RTLD_NOW | RTLD_NOLOAD);
    REQUIRE("libaio.so.1 is loaded", lib != NULL);
    getevents_0_1_fn *getevents_0_1 = versioned(lib, "io_getevents", "LIBAIO_0.1");
    cancel_0_1_fn *cancel_0_1 = versioned(lib, "io_cancel", "LIBAIO_0.1");
    queue_wait_fn *queue_wait_0_1 = versioned(lib, "io_queue_wait", "LIBAIO_0.1");
    queue_wait_fn *queue_wait_0_4 = versioned(lib, "io_queue_wait", "LIBAIO_0.4");

    CHECK("dlsym(io_getevents) is the LIBAIO_0.4 one", dlsym(lib, "io_getevents"), dlvsym(lib, "io_getevents", "LIBAIO_0.4"));
    CHECK("dlsym(io_cancel) is the LIBAIO_0.4 one", dlsym(lib, "io_cancel"), dlvsym(lib, "io_cancel", "LIBAIO_0.4"));
    CHECK("dlsym(io_queue_wait) is the LIBAIO_0.4 one", dlsym(lib, "io_queue_wait"), queue_wait_0_4);
    CHECK_TRUE("io_getevents@LIBAIO_0.1 is its own function", (void *)getevents_0_1 != dlsym(lib, "io_getevents"));
    CHECK_TRUE("io_cancel@LIBAIO_0.1 is its own function", (void *)cancel_0_1 != dlsym(lib, "io_cancel"));
    CHECK("no io_pgetevents@LIBAIO_0.4", dlvsym(lib, "io_pgetevents", "LIBAIO_0.4"), NULL);
    CHECK("no io_setup@LIBAIO_0.1", dlvsym(lib, "io_setup", "LIBAIO_0.1"), NULL);

    io_context_t ctx = new_ctx(8);
    int zero = open_dev_zero();
    char bufs[2][4];
    struct iocb reads[2], *ptrs[2] = {&reads[0], &reads[1]};
    struct io_event events[8];
    for (int i = 0; i < 2; i++)
        io_prep_pread(&reads[i], zero, bufs[i], sizeof bufs[i], 0);
    CHECK("io_submit of two reads", io_submit(ctx, 2, ptrs), 2);
    CHECK("io_getevents@LIBAIO_0.1 returns what is ready", getevents_0_1(ctx, 8, events, NULL), 2);
    CHECK("io_getevents@LIBAIO_0.1 fills events", events[1].obj, &reads[1]);

    /* With nothing ready, the old call still waits for one event (min_nr 1)
     * until the timeout, where min_nr 0 returns at once. */
    struct timespec start, wait = {0, 200000000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK("io_getevents with min_nr 0 and nothing ready", io_getevents(ctx, 0, 8, events, &wait), 0);
    CHECK_TRUE("io_getevents with min_nr 0 returns before the timeout", elapsed_ms(&start) < 150);
    clock_gettime(CLOCK_MONOTONIC, &start);
    CHECK("io_getevents@LIBAIO_0.1 with nothing ready", getevents_0_1(ctx, 8, events, &wait), 0);
    CHECK_TRUE("io_getevents@LIBAIO_0.1 waits the whole timeout", elapsed_ms(&start) >= 200);
    CHECK("io_getevents@LIBAIO_0.1 with nr -1", getevents_0_1(ctx, -1, events, NULL), -EINVAL);

    int efd = eventfd(0, 0);
    REQUIRE("eventfd", efd >= 0);
    struct iocb pending;
    io_prep_poll(&pending, efd, POLLIN);
    submit_one(ctx, &pending);
    CHECK("io_cancel@LIBAIO_0.1 of a pending poll", cancel_0_1(ctx, &pending), -EINPROGRESS);
    CHECK("the cancelled poll's event arrives", wait_one(ctx, &events[0]), 1);
    CHECK("its obj is the cancelled poll", events[0].obj, &pending);
    CHECK("io_cancel@LIBAIO_0.1 of a finished poll", cancel_0_1(ctx, &pending), -EINVAL);
    CHECK("io_cancel@LIBAIO_0.1 on a context the kernel does not know", cancel_0_1(BOGUS_CTX, &pending), -EINVAL);

    check_queue_wait("LIBAIO_0.1", queue_wait_0_1, ctx, zero);
    check_queue_wait("LIBAIO_0.4", queue_wait_0_4, ctx, zero);
    CHECK("io_destroy", io_destroy(ctx), 0);
    return check_finish();
}
