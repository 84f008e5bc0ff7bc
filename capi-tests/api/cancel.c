/* io_cancel: a pending request is cancelled with -EINPROGRESS and its event
 * then arrives in the ring; a finished one cannot be cancelled. */
#include "check.h"
#include <poll.h>
#include <sys/eventfd.h>

int main(void)
{
    io_context_t ctx = new_ctx(8);
    int efd = eventfd(0, 0);
    REQUIRE("eventfd", efd >= 0);

    /* The eventfd stays at 0, so this poll never completes by itself. */
    struct iocb pending;
    io_prep_poll(&pending, efd, POLLIN);
    submit_one(ctx, &pending);
    struct io_event untouched, ev;
    memset(&untouched, 0xA5, sizeof untouched);
    struct io_event result = untouched;
    CHECK("io_cancel of a pending poll", io_cancel(ctx, &pending, &result), -EINPROGRESS);
    CHECK_TRUE("io_cancel leaves its result argument alone", !memcmp(&result, &untouched, sizeof result));
    CHECK("the cancelled poll's event arrives", wait_one(ctx, &ev), 1);
    CHECK("its obj is the cancelled iocb", ev.obj, &pending);
    CHECK("its res is an empty poll mask", ev.res, 0);
    CHECK("nothing else is in the ring", io_getevents(ctx, 0, 1, &ev, ZERO_TIMEOUT), 0);

    int zero = open_dev_zero();
    char buf[16];
    struct iocb done;
    io_prep_pread(&done, zero, buf, sizeof buf, 0);
    submit_one(ctx, &done);
    CHECK("io_cancel of a completed, unreaped read", io_cancel(ctx, &done, &result), -EINVAL);
    CHECK("the completed read is still reaped once", io_getevents(ctx, 1, 1, &ev, NULL), 1);
    CHECK("its obj is the read", ev.obj, &done);
    CHECK("its res is the full length", ev.res, sizeof buf);
    CHECK("io_cancel of a reaped read", io_cancel(ctx, &done, &result), -EINVAL);

    io_prep_poll(&pending, efd, POLLIN);
    submit_one(ctx, &pending);
    CHECK("io_cancel on a context the kernel does not know", io_cancel(BOGUS_CTX, &pending, &result), -EINVAL);
    CHECK("io_cancel with an unreadable iocb", io_cancel(ctx, (struct iocb *)8, &result), -EFAULT);
    CHECK("io_destroy with a pending poll", io_destroy(ctx), 0);
    return check_finish();
}
