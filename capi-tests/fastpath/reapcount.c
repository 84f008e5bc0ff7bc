/* reapcount MODE COUNT: COUNT times, submits one read of /dev/zero and reaps
 * it at once in the way MODE names (or, for queue-wait, calls io_queue_wait).
 * suites/fastpath.sh counts the reaping syscalls with strace, for our
 * library, our library with the fast path off, and the system libaio. */
#include "fastpath.h"

static long callbacks;
static void count_callback(io_context_t ctx, struct iocb *iocb, long res, long res2)
{
    (void)ctx, (void)iocb, (void)res2;
    callbacks += res == ZERO_READ_BYTES;
}

/* Reaps the read with id ID the way MODE says; returns whether it came back. */
static int reap_one(io_context_t ctx, const char *mode, long id)
{
    struct io_event ev;
    int ret;
    if (strcmp(mode, "getevents") == 0)
        ret = io_getevents(ctx, 1, 1, &ev, NULL);
    else if (strcmp(mode, "getevents-poll") == 0)
        ret = io_getevents(ctx, 0, 1, &ev, ZERO_TIMEOUT);
    else if (strcmp(mode, "pgetevents") == 0)
        ret = io_pgetevents(ctx, 1, 1, &ev, NULL, NULL);
    else
        return -1;
    return ret == 1 && (long)ev.data == id && ev.res == ZERO_READ_BYTES;
}

int main(int argc, char **argv)
{
    REQUIRE("usage: reapcount getevents|getevents-poll|pgetevents|queue-run|queue-wait COUNT", argc == 3);
    const char *mode = argv[1];
    long count = atol(argv[2]), done = 0;
    io_context_t ctx = new_ctx(8);
    struct iocb cb, *ptr = &cb;

    for (long id = 0; id < count; id++) {
        if (strcmp(mode, "queue-wait") == 0) {
            done += io_queue_wait(ctx, NULL) == 0;
        } else if (strcmp(mode, "queue-run") == 0) {
            prep_zero_read(&cb, id);
            io_set_callback(&cb, count_callback);
            REQUIRE("io_submit", io_submit(ctx, 1, &ptr) == 1);
            done += io_queue_run(ctx) == 0;
        } else {
            submit_zero_reads(ctx, 1, id);
            int reaped = reap_one(ctx, mode, id);
            REQUIRE("a known mode", reaped >= 0);
            done += reaped;
        }
    }
    char name[128];
    if (strcmp(mode, "queue-run") == 0) {
        snprintf(name, sizeof name, "%s x %ld: each io_queue_run called the read's callback", mode, count);
        CHECK(name, callbacks, count);
    }
    snprintf(name, sizeof name, "%s x %ld: each call returned what it should", mode, count);
    CHECK(name, done, count);
    CHECK("io_destroy", io_destroy(ctx), 0);
    return check_finish();
}
