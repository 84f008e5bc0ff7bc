/* A process of known shape for aiostat's suite: it makes a context for
 * each nr_events given, leaves WAITING completions of reads of /dev/zero
 * unreaped in the first, says what it made, and waits to be killed.
 *   holder [--waiting K] [--fork [--destroy-after-fork]] NR_EVENTS...
 *   holder --expect-eagain NR_EVENTS
 * --fork: a child inherits the rings (not the contexts) and waits too;
 * with --destroy-after-fork the parent then destroys its last context, so
 * that the child keeps a mapping of a destroyed ring. --expect-eagain
 * makes one io_setup and says whether the kernel refused it with EAGAIN,
 * and whether it had to (aio-nr + NR_EVENTS past aio-max-nr just before).
 * Built with -DRAW_SYSCALLS it makes the syscalls itself; otherwise it
 * calls libaio, whichever libaio.so.1 (or libaio.a) it is given. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifdef RAW_SYSCALLS
#include <linux/aio_abi.h>
#include <sys/syscall.h>
typedef aio_context_t context_t;
static int setup(unsigned nr_events, context_t *ctx)
{
    return syscall(SYS_io_setup, nr_events, ctx) < 0 ? -errno : 0;
}
static int destroy(context_t ctx)
{
    return syscall(SYS_io_destroy, ctx) < 0 ? -errno : 0;
}
static int submit_read(context_t ctx, int fd, void *buffer)
{
    struct iocb cb = {.aio_lio_opcode = IOCB_CMD_PREAD, .aio_fildes = fd, .aio_buf = (unsigned long)buffer,
                      .aio_nbytes = 1};
    struct iocb *list[1] = {&cb};
    return syscall(SYS_io_submit, ctx, 1, list) < 0 ? -errno : 1;
}
#else
#include <libaio.h>
typedef io_context_t context_t;
static int setup(unsigned nr_events, context_t *ctx) { return io_setup(nr_events, ctx); }
static int destroy(context_t ctx) { return io_destroy(ctx); }
static int submit_read(context_t ctx, int fd, void *buffer)
{
    struct iocb cb;
    struct iocb *list[1] = {&cb};
    io_prep_pread(&cb, fd, buffer, 1, 0);
    return io_submit(ctx, 1, list);
}
#endif

#define MOST_CONTEXTS 16

static long read_number(const char *path)
{
    FILE *file = fopen(path, "r");
    long value = -1;
    if (!file || fscanf(file, "%ld", &value) != 1)
        value = -1;
    if (file)
        fclose(file);
    return value;
}

static int expect_eagain(unsigned nr_events)
{
    context_t ctx = 0;
    long max = read_number("/proc/sys/fs/aio-max-nr"), before = read_number("/proc/sys/fs/aio-nr");
    int ret = setup(nr_events, &ctx);
    printf("io_setup(%u) = %d (%s); aio-nr %ld + %u %s aio-max-nr %ld just before\n", nr_events, ret,
           ret < 0 ? strerror(-ret) : "made", before, nr_events, before + nr_events > max ? "passes" : "fits under",
           max);
    printf("%s\n", ret == -EAGAIN ? "refused" : before + nr_events > max ? "not refused" : "had room");
    return 0;
}

int main(int argc, char **argv)
{
    int waiting = 0, fork_child = 0, destroy_after_fork = 0, count = 0, arg = 1;
    context_t ctx[MOST_CONTEXTS] = {0};
    char buffer[64];
    alarm(300); /* never outlive the suite */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "--expect-eagain") == 0)
        return expect_eagain(strtoul(argv[2], NULL, 10));
    for (; arg < argc && strncmp(argv[arg], "--", 2) == 0; arg++) {
        if (strcmp(argv[arg], "--waiting") == 0 && arg + 1 < argc)
            waiting = atoi(argv[++arg]);
        else if (strcmp(argv[arg], "--fork") == 0)
            fork_child = 1;
        else if (strcmp(argv[arg], "--destroy-after-fork") == 0)
            destroy_after_fork = 1;
        else {
            fprintf(stderr, "holder: unknown option %s\n", argv[arg]);
            return 2;
        }
    }
    for (; arg < argc && count < MOST_CONTEXTS; arg++, count++) {
        unsigned nr_events = strtoul(argv[arg], NULL, 10);
        int ret = setup(nr_events, &ctx[count]);
        if (ret < 0) {
            printf("io_setup(%u) failed: %s\n", nr_events, strerror(-ret));
            return 1;
        }
        printf("context %u %#lx\n", nr_events, (unsigned long)ctx[count]);
    }
    int zero = open("/dev/zero", O_RDONLY);
    for (int i = 0; i < waiting; i++) {
        int ret = submit_read(ctx[0], zero, buffer);
        if (ret != 1) {
            printf("io_submit: %s\n", strerror(-ret));
            return 1;
        }
    }
    if (fork_child) {
        pid_t child = fork();
        if (child == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                pause();
        }
        printf("child %d\n", (int)child);
        if (destroy_after_fork) {
            int ret = destroy(ctx[count - 1]);
            printf("destroyed %#lx: %d\n", (unsigned long)ctx[count - 1], ret);
        }
    }
    printf("ready %d\n", (int)getpid());
    for (;;)
        pause();
}
