/* io_queue_init, io_queue_release and io_queue_run with io_set_callback. */
#include "check.h"

#define STALE_CTX ((io_context_t)0x1234)

/* A callback that submits its iocb again until CHAIN_LENGTH runs are done. */
enum { CHAIN_LENGTH = 5 };
static int chain_runs, chain_resubmit_errors;

static void resubmit(io_context_t ctx, struct iocb *iocb, long res, long res2)
{
    (void)res;
    (void)res2;
    if (++chain_runs < CHAIN_LENGTH && io_submit(ctx, 1, &iocb) != 1)
        chain_resubmit_errors++;
}

int main(void)
{
    io_context_t ctx = STALE_CTX;
    CHECK("io_queue_init with maxevents 0", io_queue_init(0, &ctx), -EINVAL);
    CHECK("io_queue_init with maxevents 0 leaves *ctxp alone", ctx, STALE_CTX);
    CHECK("io_queue_init with maxevents -5", io_queue_init(-5, &ctx), -EINVAL);
    CHECK("io_queue_init with maxevents -5 leaves *ctxp alone", ctx, STALE_CTX);
    CHECK("io_setup refuses a stale *ctxp", io_setup(4, &ctx), -EINVAL);
    CHECK("io_queue_init clears a stale *ctxp", io_queue_init(4, &ctx), 0);
    CHECK_TRUE("io_queue_init stores a new context", ctx != STALE_CTX && ctx != 0);

    /* Reads of 1, 2 and 3 bytes, plus one into NULL that fails with -EFAULT:
     * each callback must get its own iocb and result. */
    enum { READS = 4 };
    int zero = open_dev_zero();
    static char bufs[READS][8];
    struct iocb cbs[READS], *ptrs[READS];
    for (int i = 0; i < READS; i++) {
        io_prep_pread(&cbs[i], zero, i == READS - 1 ? NULL : bufs[i], i + 1, 0);
        io_set_callback(&cbs[i], record_call);
        ptrs[i] = &cbs[i];
    }
    CHECK("io_set_callback stores the callback in data", cbs[0].data, record_call);
    CHECK("io_submit on the io_queue_init context", io_submit(ctx, READS, ptrs), READS);
    CHECK("io_queue_run returns 0 once drained", io_queue_run(ctx), 0);
    CHECK("io_queue_run calls one callback per event", recorded_count, READS);
    unsigned seen = 0;
    for (int i = 0; i < READS && i < recorded_count; i++) {
        struct recorded_call *call = &recorded[i];
        int index = (int)(call->iocb - cbs);
        char name[64];
        snprintf(name, sizeof name, "callback %d gets one of our iocbs", i);
        CHECK_TRUE(name, index >= 0 && index < READS);
        if (index < 0 || index >= READS)
            continue;
        seen |= 1u << index;
        snprintf(name, sizeof name, "callback for read %d gets the context", index);
        CHECK(name, call->ctx, ctx);
        snprintf(name, sizeof name, "callback for read %d gets res", index);
        CHECK(name, call->res, index == READS - 1 ? -EFAULT : index + 1);
        snprintf(name, sizeof name, "callback for read %d gets res2 0", index);
        CHECK(name, call->res2, 0);
    }
    CHECK("every read's callback ran", seen, (1u << READS) - 1);
    CHECK("io_queue_run on an empty ring", io_queue_run(ctx), 0);
    CHECK("io_queue_run on an empty ring calls nothing", recorded_count, READS);

    /* io_queue_run runs until the ring is empty, including completions that
     * its callbacks caused. */
    char byte;
    io_prep_pread(&cbs[0], zero, &byte, 1, 0);
    io_set_callback(&cbs[0], resubmit);
    submit_one(ctx, &cbs[0]);
    CHECK("io_queue_run with callbacks that submit more", io_queue_run(ctx), 0);
    CHECK("one io_queue_run ran the whole chain of callbacks", chain_runs, CHAIN_LENGTH);
    CHECK("the callbacks could submit", chain_resubmit_errors, 0);

    CHECK("io_queue_run on a context the kernel does not know", io_queue_run(BOGUS_CTX), -EINVAL);
    CHECK("io_queue_run on a NULL context", io_queue_run(NULL), -EINVAL);

    CHECK("io_queue_release", io_queue_release(ctx), 0);
    CHECK("io_submit after io_queue_release", io_submit(ctx, 1, ptrs), -EINVAL);
    CHECK("io_queue_release again", io_queue_release(ctx), -EINVAL);
    CHECK("io_queue_release of a context the kernel does not know", io_queue_release(BOGUS_CTX), -EINVAL);
    CHECK("io_queue_release of NULL", io_queue_release(NULL), -EINVAL);
    return check_finish();
}
