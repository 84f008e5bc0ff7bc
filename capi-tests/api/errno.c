/* libaio reports errors in its return value only: errno is never changed,
 * by failing calls or by successful ones. */
#include "check.h"
#include <poll.h>

/* Runs CALL with errno set to a marker, checks its result and the marker. */
#define CHECK_KEEPS_ERRNO(name, call, want)                                   \
    do {                                                                      \
        errno = 1234;                                                         \
        long long result_ = (call);                                           \
        int errno_after_ = errno;                                             \
        CHECK(name, result_, want);                                           \
        CHECK(name " leaves errno alone", errno_after_, 1234);                \
    } while (0)

int main(void)
{
    io_context_t ctx = 0, unused = 0;
    struct iocb cb, *ptr = &cb;
    struct io_event ev;
    char buf[8];
    int zero = open_dev_zero();

    CHECK_KEEPS_ERRNO("io_setup(0)", io_setup(0, &unused), -EINVAL);
    CHECK_KEEPS_ERRNO("io_setup with an unreadable ctxp", io_setup(1, (io_context_t *)8), -EFAULT);
    CHECK_KEEPS_ERRNO("io_setup", io_setup(4, &ctx), 0);
    CHECK_KEEPS_ERRNO("io_setup on a live *ctxp", io_setup(4, &ctx), -EINVAL);
    CHECK_KEEPS_ERRNO("io_queue_init(0)", io_queue_init(0, &unused), -EINVAL);
    CHECK_KEEPS_ERRNO("io_destroy(NULL)", io_destroy(NULL), -EINVAL);
    CHECK_KEEPS_ERRNO("io_destroy of a context the kernel does not know", io_destroy(BOGUS_CTX), -EINVAL);
    CHECK_KEEPS_ERRNO("io_queue_release(NULL)", io_queue_release(NULL), -EINVAL);
    CHECK_KEEPS_ERRNO("io_submit of -1 iocbs", io_submit(ctx, -1, &ptr), -EINVAL);
    CHECK_KEEPS_ERRNO("io_submit of a NULL array", io_submit(ctx, 1, NULL), -EFAULT);
    CHECK_KEEPS_ERRNO("io_submit on a NULL context", io_submit(NULL, 1, &ptr), -EINVAL);
    io_prep_pread(&cb, -1, buf, sizeof buf, 0);
    CHECK_KEEPS_ERRNO("io_submit of a read of fd -1", io_submit(ctx, 1, &ptr), -EBADF);
    CHECK_KEEPS_ERRNO("io_cancel of an iocb never submitted", io_cancel(ctx, &cb, &ev), -EINVAL);
    CHECK_KEEPS_ERRNO("io_getevents with min_nr > nr", io_getevents(ctx, 2, 1, &ev, NULL), -EINVAL);
    CHECK_KEEPS_ERRNO("io_getevents with min_nr < 0", io_getevents(ctx, -1, 1, &ev, NULL), -EINVAL);
    CHECK_KEEPS_ERRNO("io_getevents on a NULL context", io_getevents(NULL, 0, 1, &ev, NULL), -EINVAL);
    CHECK_KEEPS_ERRNO("io_pgetevents with min_nr > nr", io_pgetevents(ctx, 2, 1, &ev, NULL, NULL), -EINVAL);
    CHECK_KEEPS_ERRNO("io_queue_run on a NULL context", io_queue_run(NULL), -EINVAL);
    CHECK_KEEPS_ERRNO("io_poll on fd -1", io_poll(ctx, &cb, NULL, -1, POLLIN), -EBADF);

    io_prep_pread(&cb, zero, buf, sizeof buf, 0);
    CHECK_KEEPS_ERRNO("io_submit", io_submit(ctx, 1, &ptr), 1);
    CHECK_KEEPS_ERRNO("io_getevents", io_getevents(ctx, 1, 1, &ev, NULL), 1);
    CHECK_KEEPS_ERRNO("io_getevents on an empty ring", io_getevents(ctx, 0, 1, &ev, ZERO_TIMEOUT), 0);
    CHECK_KEEPS_ERRNO("io_queue_run on an empty ring", io_queue_run(ctx), 0);
    CHECK_KEEPS_ERRNO("io_destroy", io_destroy(ctx), 0);
    return check_finish();
}
