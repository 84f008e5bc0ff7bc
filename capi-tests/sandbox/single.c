/* A single-threaded program that sandboxes itself: it opens what it needs,
 * installs a seccomp filter that kills the process on any syscall but
 * upstream libaio's and a few of its own, then uses libaio under it: an
 * io_setup that the kernel refuses with EAGAIN, reads, a wait, polls, a
 * timeout, a cancelled poll, io_pgetevents, io_destroy and a second context. A library that makes any other syscall (membarrier,
 * sched_yield, mmap...) kills it with SIGSYS. Nothing here calls malloc,
 * so a library that allocates under the filter makes the process's first
 * malloc, and its getrandom and brk get it killed too. */
#include "sandbox.h"
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>

static const struct allowed_syscall allowed[] = {LIBAIO_AND_PROGRAM_SYSCALLS};

enum { ZERO_READ = 1, FILE_READ, FSYNC, POLL, SECOND_READ };
#define READ_BYTES 64
static char zero_buffer[READ_BYTES], file_buffer[READ_BYTES];
static const char file_bytes[READ_BYTES] = "what the sandboxed program reads back from its file";

/* A file in $TMPDIR holding file_bytes, already unlinked. */
static int scratch_file(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/capi-sandbox.XXXXXX", dir ? dir : "/tmp");
    int fd = mkstemp(path);
    require("mkstemp", fd >= 0);
    unlink(path);
    require("write of the file", write(fd, file_bytes, READ_BYTES) == READ_BYTES);
    return fd;
}

/* /proc/sys/fs/aio-max-nr: an io_setup of one event more is refused. */
static long aio_max_nr(void)
{
    long max = 0;
    FILE *file = fopen("/proc/sys/fs/aio-max-nr", "r");
    require("read /proc/sys/fs/aio-max-nr", file && fscanf(file, "%ld", &max) == 1);
    fclose(file);
    return max;
}

static struct iocb *read_of(struct iocb *cb, int fd, char *buffer, long id)
{
    io_prep_pread(cb, fd, buffer, READ_BYTES, 0);
    cb->data = (void *)id;
    return cb;
}

int main(void)
{
    list_allowed_if_asked(allowed, ALLOWED_COUNT(allowed));
    int zero = open("/dev/zero", O_RDONLY);
    require("open /dev/zero", zero >= 0);
    int file = scratch_file();
    /* Stays at 0: a poll for POLLIN on it never completes by itself. */
    int never_readable = eventfd(0, 0);
    require("eventfd", never_readable >= 0);
    sigset_t no_signals;
    sigemptyset(&no_signals);
    struct iocb zero_read, file_read, fsync_cb, poll_cb, second_read;
    struct io_event events[4], cancel_result;
    const struct timespec ten_ms = {0, 10 * 1000 * 1000};
    io_context_t ctx = 0;
    int n;
    /* Nothing but the kernel's answer, with the report off (the library
     * reads /proc/sys/fs with it on). Above 4194304 events the kernel
     * answers EINVAL instead: its own bound on a ring. */
    long too_many = aio_max_nr() + 1;

    enter_sandbox(allowed, ALLOWED_COUNT(allowed), 0);

    expect("io_setup(aio-max-nr + 1) is refused", io_setup(too_many, &ctx), too_many > 4194304 ? -EINVAL : -EAGAIN);
    expect("io_setup(16)", io_setup(16, &ctx), 0);
    require("a context", ctx != 0);
    expect("io_getevents with a zero timeout on the empty ring", io_getevents(ctx, 0, 4, events, ZERO_TIMEOUT), 0);
    expect("io_pgetevents with a zero timeout and no mask on the empty ring",
           io_pgetevents(ctx, 0, 4, events, ZERO_TIMEOUT, NULL), 0);

    struct iocb *reads[] = {read_of(&zero_read, zero, zero_buffer, ZERO_READ),
                            read_of(&file_read, file, file_buffer, FILE_READ)};
    expect("io_submit of a read of /dev/zero and one of the file", io_submit(ctx, 2, reads), 2);
    n = io_getevents(ctx, 0, 4, events, ZERO_TIMEOUT);
    expect("io_getevents with a zero timeout finds both", n, 2);
    expect_event("the /dev/zero read's res", events, n, ZERO_READ, READ_BYTES);
    expect_event("the file read's res", events, n, FILE_READ, READ_BYTES);
    expect("the file's bytes arrived (1: yes)", memcmp(file_buffer, file_bytes, READ_BYTES) == 0, 1);

    /* An fsync completes later, in a kernel worker: this call has to wait. */
    io_prep_fsync(&fsync_cb, file);
    fsync_cb.data = (void *)FSYNC;
    expect("io_submit of an fsync of the file", io_submit(ctx, 1, (struct iocb *[]){&fsync_cb}), 1);
    n = io_getevents(ctx, 1, 4, events, NULL);
    expect("io_getevents(min_nr 1, no timeout) waits for it", n, 1);
    expect_event("the fsync's res", events, n, FSYNC, 0);
    expect("io_getevents(min_nr 1) with a 10 ms timeout that expires",
           io_getevents(ctx, 1, 4, events, (struct timespec *)&ten_ms), 0);

    io_prep_poll(&poll_cb, never_readable, POLLIN);
    poll_cb.data = (void *)POLL;
    expect("io_submit of a poll of an eventfd that stays unreadable", io_submit(ctx, 1, (struct iocb *[]){&poll_cb}),
           1);
    expect("io_getevents with a zero timeout while the poll is pending", io_getevents(ctx, 0, 4, events, ZERO_TIMEOUT),
           0);
    expect("io_cancel of the pending poll", io_cancel(ctx, &poll_cb, &cancel_result), -EINPROGRESS);
    n = io_getevents(ctx, 1, 4, events, NULL);
    expect("io_getevents(min_nr 1, no timeout) gets the cancelled poll's event", n, 1);
    expect_event("the cancelled poll's res (an empty poll mask)", events, n, POLL, 0);
    expect("io_destroy", io_destroy(ctx), 0);
    expect("io_destroy of the destroyed context", io_destroy(ctx), -EINVAL);

    ctx = 0;
    expect("io_setup(1) of a second context", io_setup(1, &ctx), 0);
    require("a second context", ctx != 0);
    expect("io_submit of a read of /dev/zero",
           io_submit(ctx, 1, (struct iocb *[]){read_of(&second_read, zero, zero_buffer, SECOND_READ)}), 1);
    n = io_pgetevents(ctx, 1, 1, events, NULL, &no_signals);
    expect("io_pgetevents(min_nr 1, no timeout, an empty mask) gets it", n, 1);
    expect_event("its res", events, n, SECOND_READ, READ_BYTES);
    expect("io_destroy of the second context", io_destroy(ctx), 0);
    return sandbox_failures ? 1 : 0;
}
