/* io_prep_pwritev2/io_prep_preadv2: the RWF_* flags reach the kernel. */
#include "check.h"
#include <sys/uio.h>

int main(void)
{
    io_context_t ctx = new_ctx(4);
    int file = scratch_file();
    char first[] = "hello, ", second[] = "world";
    struct iovec out[2] = {{first, 7}, {second, 5}};
    struct iocb cb;
    struct io_event ev;

    io_prep_pwritev2(&cb, file, out, 2, 3, RWF_DSYNC);
    CHECK("io_prep_pwritev2 stores the flags in aio_rw_flags", cb.aio_rw_flags, RWF_DSYNC);
    CHECK("io_prep_pwritev2 prepares an IO_CMD_PWRITEV", cb.aio_lio_opcode, IO_CMD_PWRITEV);
    submit_one(ctx, &cb);
    CHECK("the RWF_DSYNC write completes", wait_one(ctx, &ev), 1);
    CHECK("the RWF_DSYNC write wrote both iovecs", ev.res, 12);
    char back[16] = {0};
    CHECK("the file has the written length", pread(file, back, sizeof back, 0), 15);
    CHECK_TRUE("the file holds the data at the offset", !memcmp(back, "\0\0\0hello, world", 15));

    char head[4] = {0}, tail[8] = {0};
    struct iovec in[2] = {{head, 4}, {tail, 8}};
    io_prep_preadv2(&cb, file, in, 2, 3, RWF_HIPRI);
    CHECK("io_prep_preadv2 stores the flags in aio_rw_flags", cb.aio_rw_flags, RWF_HIPRI);
    submit_one(ctx, &cb);
    CHECK("the RWF_HIPRI read completes", wait_one(ctx, &ev), 1);
    CHECK("the RWF_HIPRI read read both iovecs", ev.res, 12);
    CHECK_TRUE("the read data is right", !memcmp(head, "hell", 4) && !memcmp(tail, "o, world", 8));

    /* The kernel refuses flags it does not know at submission. */
    struct iocb *ptr = &cb;
    io_prep_pwritev2(&cb, file, out, 2, 0, 0x40000000);
    CHECK("io_submit with an unknown RWF flag", io_submit(ctx, 1, &ptr), -EOPNOTSUPP);
    CHECK("io_destroy", io_destroy(ctx), 0);
    return check_finish();
}
