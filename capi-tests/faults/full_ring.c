/* A full ring: io_submit says -EAGAIN once every request slot holds a
 * completion nobody reaped; reaping them (from the ring, in user space with
 * our library) gives the slots back and submission continues, cycle after
 * cycle, with nothing lost. The kernel learns of slots reaped in user space
 * from the ring's head (upstream harness 17.t checks the same for hand
 * reaping). */
#include "faults.h"

#define REQUESTED 32
#define CYCLES 20

int main(void)
{
    struct io_event ev[64];
    struct iocb cb, many[64], *ptrs[64];
    watchdog(20);
    io_context_t ctx = new_ctx(REQUESTED);
    unsigned ring_slots = RING_OF(ctx)->nr;
    int held_enough = 1, refused_cleanly = 1, reaped_all = 1, results = 1;
    long total = 0;

    for (int cycle = 0; cycle < CYCLES; cycle++) {
        long submitted = 0, reaped = 0, ret;
        prep_zero_read(&cb, cycle);
        while ((ret = LIB(io_submit(ctx, 1, (struct iocb *[]){&cb}))) == 1 && submitted < ring_slots)
            submitted++;
        refused_cleanly &= ret == -EAGAIN;
        held_enough &= submitted >= REQUESTED && submitted < ring_slots;
        /* Zero timeout: reaped from the ring without waiting. */
        while ((ret = LIB(io_getevents(ctx, 0, 64, ev, ZERO_TIMEOUT))) > 0) {
            for (int i = 0; i < ret; i++)
                results &= (long)ev[i].data == cycle && ev[i].res == ZERO_READ_BYTES;
            reaped += ret;
        }
        reaped_all &= ret == 0 && reaped == submitted;
        total += submitted;
    }
    printf("%d cycles of filling a ring of %u slots (io_setup(%d)) and reaping it: %ld reads\n", CYCLES,
           ring_slots, REQUESTED, total);
    CHECK_TRUE("a full ring makes io_submit return -EAGAIN", refused_cleanly);
    CHECK_TRUE("the ring holds at least the requests io_setup asked for", held_enough);
    CHECK_TRUE("after -EAGAIN, every completion is reaped, once", reaped_all);
    CHECK_TRUE("each reaped event is a read of this cycle, with its result", results);

    /* One io_submit of more than fits: it takes what fits and says so. */
    for (int i = 0; i < 64; i++) {
        prep_zero_read(&many[i], i);
        ptrs[i] = &many[i];
    }
    long accepted = 0, ret;
    while ((ret = LIB(io_submit(ctx, 64, ptrs))) == 64)
        accepted += ret;
    CHECK_TRUE("an io_submit that does not fit is partial", ret > 0 && ret < 64);
    accepted += ret > 0 ? ret : 0;
    CHECK("and the next one gets -EAGAIN", LIB(io_submit(ctx, 64, ptrs)), -EAGAIN);
    long reaped = 0;
    while ((ret = LIB(io_getevents(ctx, 0, 64, ev, ZERO_TIMEOUT))) > 0)
        reaped += ret;
    CHECK("everything accepted is reaped", reaped, accepted);
    CHECK("io_destroy", LIB(io_destroy(ctx)), 0);
    return check_finish();
}
