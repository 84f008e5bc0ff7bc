/* fork: the child still maps the parent's ring, with events ready in it,
 * but the context is not the child's. Every call on it must go to the
 * kernel (-EINVAL) and leave the ring alone; a context the child makes
 * itself has the fast path. Afterwards the parent reaps all of its events,
 * once each, from the ring. Each process prints the syscalls it must make;
 * suites/fastpath.sh adds them up and compares with strace -f. */
#include "fastpath.h"

#define PARENT_READS 4

static long getevents_syscalls, pgetevents_syscalls;

/* A call on the inherited context: the kernel's answer. */
#define INHERITED(counter, call) ((counter)++, LIB(call))

static void in_the_child(io_context_t inherited)
{
    struct io_event ev[8];
    struct ring_header before = *RING_OF(inherited);

    CHECK("child: the parent's ring is still mapped, with its events", before.magic == RING_MAGIC &&
          (before.tail + before.nr - before.head) % before.nr == PARENT_READS, 1);
    CHECK("child: io_getevents(min_nr 1, no timeout) on the inherited context: -EINVAL",
          INHERITED(getevents_syscalls, io_getevents(inherited, 1, 8, ev, NULL)), -EINVAL);
    CHECK("child: io_getevents(zero timeout) on the inherited context: -EINVAL",
          INHERITED(getevents_syscalls, io_getevents(inherited, 0, 8, ev, ZERO_TIMEOUT)), -EINVAL);
    CHECK("child: io_pgetevents(min_nr 1, no timeout) on the inherited context: -EINVAL",
          INHERITED(pgetevents_syscalls, io_pgetevents(inherited, 1, 8, ev, NULL, NULL)), -EINVAL);
    CHECK("child: io_queue_run on the inherited context: -EINVAL",
          INHERITED(getevents_syscalls, io_queue_run(inherited)), -EINVAL);
    CHECK("child: io_queue_wait(no timeout) on the inherited context: -EINVAL",
          INHERITED(getevents_syscalls, io_queue_wait(inherited, NULL)), -EINVAL);
    CHECK("child: io_destroy of the inherited context: -EINVAL", LIB(io_destroy(inherited)), -EINVAL);
    CHECK_TRUE("child: the inherited ring is untouched", memcmp(&before, RING_OF(inherited), sizeof before) == 0);

    io_context_t own = new_ctx(8);
    submit_zero_reads(own, 3, 10);
    CHECK("child: io_getevents(min_nr 3, no timeout) on its own context: 3", LIB(io_getevents(own, 3, 8, ev, NULL)), 3);
    check_zero_events("child: its own context's reads", ev, 3, 10);
    CHECK("child: io_destroy of its own context", LIB(io_destroy(own)), 0);
}

int main(void)
{
    struct io_event ev[8];
    int status;
    io_context_t ctx = new_ctx(8);

    submit_zero_reads(ctx, PARENT_READS, 1);
    fflush(stdout);
    pid_t child = fork();
    REQUIRE("fork", child >= 0);
    if (child == 0) {
        in_the_child(ctx);
        print_expected_syscalls(getevents_syscalls, pgetevents_syscalls);
        fflush(stdout);
        _exit(check_failures ? 1 : 0);
    }
    REQUIRE("waitpid", waitpid(child, &status, 0) == child);
    CHECK("the child exits 0", status, 0);
    CHECK("parent: io_getevents(min_nr 4, no timeout) after the child: all 4", LIB(io_getevents(ctx, 4, 8, ev, NULL)),
          PARENT_READS);
    check_zero_events("parent: its 4 reads, in order", ev, PARENT_READS, 1);
    CHECK("parent: nothing more", LIB(io_getevents(ctx, 0, 8, ev, ZERO_TIMEOUT)), 0);
    CHECK("parent: io_destroy", LIB(io_destroy(ctx)), 0);
    print_expected_syscalls(getevents_syscalls, pgetevents_syscalls); /* 0: all served from the ring */
    return check_finish();
}
