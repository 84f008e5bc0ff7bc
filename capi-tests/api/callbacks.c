/* io_poll, io_fsync and io_fdsync: the header's submit-with-callback helpers,
 * completed through io_queue_run. */
#include "check.h"
#include <poll.h>

int main(void)
{
    io_context_t ctx = new_ctx(8);
    int pipe_fds[2];
    REQUIRE("pipe", pipe(pipe_fds) == 0);

    struct iocb poll_cb;
    CHECK("io_poll on an empty pipe", io_poll(ctx, &poll_cb, record_call, pipe_fds[0], POLLIN), 1);
    CHECK("io_poll stores the callback in data", poll_cb.data, record_call);
    CHECK("io_queue_run before the pipe is readable", io_queue_run(ctx), 0);
    CHECK("no callback before the pipe is readable", recorded_count, 0);
    REQUIRE("write to the pipe", write(pipe_fds[1], "x", 1) == 1);
    CHECK("io_queue_run after the write", run_until_recorded(ctx, 1), 0);
    CHECK("the poll's callback ran once", recorded_count, 1);
    CHECK("the poll's callback gets its iocb", recorded[0].iocb, &poll_cb);
    CHECK("the poll's callback gets the context", recorded[0].ctx, ctx);
    /* The kernel may add POLLRDNORM, depending on which path completes it. */
    CHECK_TRUE("the poll's callback gets POLLIN", recorded[0].res & POLLIN);
    CHECK("the poll's callback gets res2 0", recorded[0].res2, 0);

    int file = scratch_file();
    REQUIRE("write to the scratch file", write(file, "data", 4) == 4);
    struct iocb fsync_cb, fdsync_cb;
    CHECK("io_fsync", io_fsync(ctx, &fsync_cb, record_call, file), 1);
    CHECK("io_fsync prepares an IO_CMD_FSYNC", fsync_cb.aio_lio_opcode, IO_CMD_FSYNC);
    CHECK("io_fdsync", io_fdsync(ctx, &fdsync_cb, record_call, file), 1);
    CHECK("io_fdsync prepares an IO_CMD_FDSYNC", fdsync_cb.aio_lio_opcode, IO_CMD_FDSYNC);
    CHECK("io_queue_run after the syncs", run_until_recorded(ctx, 3), 0);
    CHECK("both sync callbacks ran once", recorded_count, 3);
    for (int i = 1; i < 3 && i < recorded_count; i++) {
        CHECK_TRUE("a sync callback gets a sync iocb", recorded[i].iocb == &fsync_cb || recorded[i].iocb == &fdsync_cb);
        CHECK("a sync callback gets res 0", recorded[i].res, 0);
        CHECK("a sync callback gets res2 0", recorded[i].res2, 0);
    }
    CHECK_TRUE("the two sync callbacks got different iocbs", recorded_count < 3 || recorded[1].iocb != recorded[2].iocb);

    struct iocb refused;
    CHECK("io_fsync on a pipe", io_fsync(ctx, &refused, record_call, pipe_fds[1]), -EINVAL);
    CHECK("io_fdsync on a pipe", io_fdsync(ctx, &refused, record_call, pipe_fds[1]), -EINVAL);
    CHECK("io_poll on a bad fd", io_poll(ctx, &refused, record_call, -1, POLLIN), -EBADF);
    CHECK("io_queue_run after the refused submissions", io_queue_run(ctx), 0);
    CHECK("refused submissions run no callback", recorded_count, 3);
    CHECK("io_destroy", io_destroy(ctx), 0);
    return check_finish();
}
