/* io_set_eventfd: the eventfd counts completions, and once it says so the
 * events are reapable with a zero timeout (no wait). */
#include "check.h"
#include <poll.h>
#include <stdint.h>
#include <sys/eventfd.h>

enum { READS = 5, POLL_ROUNDS = 200 };

int main(void)
{
    io_context_t ctx = new_ctx(16);
    int efd = eventfd(0, 0);
    REQUIRE("eventfd", efd >= 0);
    int zero = open_dev_zero();
    char buf[READS][4];
    struct iocb cbs[READS], *ptrs[READS];
    for (int i = 0; i < READS; i++) {
        io_prep_pread(&cbs[i], zero, buf[i], sizeof buf[i], 0);
        io_set_eventfd(&cbs[i], efd);
        ptrs[i] = &cbs[i];
    }
    CHECK("io_set_eventfd sets IOCB_FLAG_RESFD", cbs[0].u.c.flags, 1);
    CHECK("io_set_eventfd stores the eventfd", cbs[0].u.c.resfd, efd);
    CHECK("io_submit of the reads", io_submit(ctx, READS, ptrs), READS);
    uint64_t count = 0;
    CHECK("read of the eventfd", read(efd, &count, sizeof count), sizeof count);
    CHECK("the eventfd counted every completion", count, READS);
    struct io_event events[2 * READS];
    CHECK("a zero-timeout io_getevents returns them all", io_getevents(ctx, 0, 2 * READS, events, ZERO_TIMEOUT), READS);
    unsigned seen = 0;
    for (int i = 0; i < READS; i++)
        seen |= 1u << (events[i].obj - cbs);
    CHECK("each read came back once", seen, (1u << READS) - 1);

    /* A poll completes in a kernel worker: the eventfd must never run ahead
     * of what a zero-timeout io_getevents can see. */
    int pipe_fds[2];
    REQUIRE("pipe", pipe(pipe_fds) == 0);
    int missed = 0;
    for (int round = 0; round < POLL_ROUNDS; round++) {
        struct iocb cb, *ptr = &cb;
        char byte;
        io_prep_poll(&cb, pipe_fds[0], POLLIN);
        io_set_eventfd(&cb, efd);
        REQUIRE("io_submit of the poll", io_submit(ctx, 1, &ptr) == 1);
        REQUIRE("write to the pipe", write(pipe_fds[1], "x", 1) == 1);
        REQUIRE("read of the eventfd", read(efd, &count, sizeof count) == sizeof count);
        if (io_getevents(ctx, 0, 1, events, ZERO_TIMEOUT) != 1 || events[0].obj != &cb || !(events[0].res & POLLIN))
            missed++;
        REQUIRE("read from the pipe", read(pipe_fds[0], &byte, 1) == 1);
    }
    CHECK("every signalled poll was reapable at once", missed, 0);
    CHECK("io_destroy", io_destroy(ctx), 0);
    return check_finish();
}
