/* eagain MODE ARGS: io_setup refused with EAGAIN, for suites/report.sh's
 * checks of how the report explains it (LIBAIO_RS_STATS,
 * LIBAIO_RS_STATS_JSON). Prints what the suite compares as "NAME VALUE"
 * lines, and "ok"/"not ok" checks:
 *
 *   hold EVENTS COUNT    COUNT contexts of EVENTS events each, held until
 *                        stdin ends: another process holding the system's
 *                        AIO events.
 *   refuse ASK OWN...    a context of each OWN size, then "ready"; at a line
 *                        on stdin, io_setup(ASK), which the suite arranged
 *                        to fail with EAGAIN (its result is printed);
 *                        /proc/sys/fs/aio-nr is read just before and just
 *                        after it, aio-max-nr just after.
 *   filtered ASK OWN...  the same, but a seccomp filter answers EAGAIN to
 *                        io_setup in the kernel's place: an EAGAIN that the
 *                        limit did not cause.
 *
 * The program reads /proc/sys/fs through a directory descriptor, so that in
 * strace its opens ("aio-nr") are told from the library's
 * ("/proc/sys/fs/aio-nr"). */
#include "../api/check.h"
#include "../api/audit_arch.h"
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define ERRNO_MARKER 4321

static int proc_fs = -1;

/* The number in /proc/sys/fs/NAME. */
static long long proc_number(const char *name)
{
    char text[32] = "";
    int fd = openat(proc_fs, name, O_RDONLY);
    REQUIRE("open a file of /proc/sys/fs", fd >= 0);
    REQUIRE("read it", read(fd, text, sizeof text - 1) > 0);
    close(fd);
    return atoll(text);
}

/* From now on the kernel's place is taken for io_setup: EAGAIN. */
static void refuse_io_setup_by_filter(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAGAIN),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog program = {.len = sizeof code / sizeof code[0], .filter = code};
    REQUIRE("prctl(PR_SET_NO_NEW_PRIVS)", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    REQUIRE("seccomp", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) == 0);
}

static void hold(int events, int count)
{
    io_context_t ctxs[64];
    REQUIRE("at most 64 contexts", count <= 64);
    for (int i = 0; i < count; i++)
        ctxs[i] = new_ctx(events);
    printf("held_events %d\nready\n", events * count);
    fflush(stdout);
    char buffer[64];
    while (read(STDIN_FILENO, buffer, sizeof buffer) > 0)
        ;
    for (int i = 0; i < count; i++)
        CHECK("io_destroy of a held context", io_destroy(ctxs[i]), 0);
}

static void refuse(int by_filter, int ask, int own_count, char **own_sizes)
{
    io_context_t own[64];
    long held_events = 0;
    REQUIRE("at most 64 contexts", own_count <= 64);
    for (int i = 0; i < own_count; i++) {
        own[i] = new_ctx(atoi(own_sizes[i]));
        held_events += atoi(own_sizes[i]);
    }
    if (by_filter)
        refuse_io_setup_by_filter();
    printf("pid %d\nheld_contexts %d\nheld_events %ld\nready\n", getpid(), own_count, held_events);
    fflush(stdout);
    char line[16];
    REQUIRE("a line on stdin", fgets(line, sizeof line, stdin) != NULL);

    long long aio_nr_before = proc_number("aio-nr");
    io_context_t ctx = 0;
    errno = ERRNO_MARKER;
    int result = io_setup(ask, &ctx);
    int errno_after = errno;
    long long aio_nr_after = proc_number("aio-nr"), aio_max_nr = proc_number("aio-max-nr");
    printf("io_setup_result %d\naio_nr_before %lld\naio_nr_after %lld\naio_max_nr %lld\n", result, aio_nr_before,
           aio_nr_after, aio_max_nr);
    if (result == -EAGAIN) {
        CHECK("io_setup leaves errno alone", errno_after, ERRNO_MARKER);
        CHECK("io_setup leaves *ctxp 0", (long)ctx, 0);
    } else if (result == 0) {
        CHECK("io_destroy of the context that was not refused", io_destroy(ctx), 0);
    }
    for (int i = 0; i < own_count; i++)
        CHECK("io_destroy of an own context", io_destroy(own[i]), 0);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    proc_fs = open("/proc/sys/fs", O_PATH | O_DIRECTORY);
    REQUIRE("open /proc/sys/fs", proc_fs >= 0);
    if (strcmp(mode, "hold") == 0 && argc == 4)
        hold(atoi(argv[2]), atoi(argv[3]));
    else if ((strcmp(mode, "refuse") == 0 || strcmp(mode, "filtered") == 0) && argc >= 3)
        refuse(strcmp(mode, "filtered") == 0, atoi(argv[2]), argc - 3, argv + 3);
    else
        REQUIRE("usage: eagain hold EVENTS COUNT | refuse ASK OWN... | filtered ASK OWN...", 0);
    return check_finish();
}
