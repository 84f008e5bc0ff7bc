/*
 * The library's own syscalls on an architecture qemu-user runs, which
 * answers ENOSYS to every AIO syscall: each call must return -ENOSYS and
 * leave errno alone (the error path of sys/arch.rs's syscall6). Run with
 * LIBAIO_RS_STATS=1, the report at exit shows the successful path: getpid
 * (the pid it prints) and write (that it prints at all).
 */
#include <errno.h>
#include <libaio.h>
#include <stdio.h>

#define CHECK(what, result)                                                      \
    printf("%s %s: %d, errno %d\n", (result) == -ENOSYS && errno == 1234 ? "ok" : "not ok", \
           what, (result), errno)

int main(void)
{
    io_context_t ctx = 0;
    struct io_event event;
    errno = 1234;
    CHECK("io_setup answers -ENOSYS", io_setup(8, &ctx));
    CHECK("io_destroy answers -ENOSYS", io_destroy((io_context_t)0x10000));
    CHECK("io_getevents answers -ENOSYS", io_getevents((io_context_t)0x10000, 1, 1, &event, NULL));
    CHECK("io_submit answers -ENOSYS", io_submit((io_context_t)0x10000, 0, NULL));
    fflush(stdout);
    return 0;
}
