/* Shared by the sandbox programs (capi-tests/sandbox): a seccomp filter
 * that kills the process on any syscall outside an allowlist, as sandboxed
 * programs such as stenographer's writer threads install, and output made
 * with snprintf and write(2) alone, so that printing needs no other syscall.
 *
 * Each step prints "ok STEP: VALUE" or "not ok STEP: VALUE, want WANT",
 * with no addresses or timings, so that runs against different
 * libraries can be compared line by line. The program exits 1 if a step
 * failed; a syscall outside the allowlist kills it with SIGSYS (status 159).
 *
 * Switches, read before the filter is installed:
 * - SANDBOX_NO_FILTER=1: do all but the seccomp() call itself (the
 *   PR_SET_NO_NEW_PRIVS prctl still marks where the filter would start), for
 *   strace and LD_DEBUG runs that must see every syscall;
 * - SANDBOX_LIST_ALLOWED=1: print the allowlist's names, one a line, and exit. */
#ifndef SANDBOX_H
#define SANDBOX_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../api/audit_arch.h"

struct allowed_syscall {
    int nr;
    const char *name;
};
#define ALLOW(name) {__NR_##name, #name}

/* The single-threaded allowlist: upstream libaio's syscalls, write and
 * exit_group for the program's output and end, and what a minimal sandbox
 * admits besides (read, exit, rt_sigreturn, clock_gettime, fstat). */
#define LIBAIO_AND_PROGRAM_SYSCALLS                                             \
    ALLOW(io_setup), ALLOW(io_destroy), ALLOW(io_submit), ALLOW(io_cancel),     \
        ALLOW(io_getevents), ALLOW(io_pgetevents), ALLOW(read), ALLOW(write),   \
        ALLOW(exit), ALLOW(exit_group), ALLOW(rt_sigreturn),                    \
        ALLOW(clock_gettime), ALLOW(fstat)

#define ALLOWED_COUNT(list) ((int)(sizeof(list) / sizeof((list)[0])))

static int sandbox_failures;

/* Writes one line made with printf's FORMAT, with write(2) only. */
__attribute__((format(printf, 1, 2))) static inline void say(const char *format, ...)
{
    char line[512];
    va_list args;
    va_start(args, format);
    int length = vsnprintf(line, sizeof line - 1, format, args);
    va_end(args);
    if (length < 0)
        length = 0;
    if (length > (int)sizeof line - 2)
        length = sizeof line - 2;
    line[length++] = '\n';
    for (int done = 0; done < length;) {
        ssize_t n = write(STDOUT_FILENO, line + done, length - done);
        if (n <= 0)
            break;
        done += n;
    }
}

/* "-22 (EINVAL)" for a negative error code, the number otherwise. */
static inline const char *value_text(long value, char *text, size_t size)
{
    const char *name = value < 0 ? strerrorname_np((int)-value) : NULL;
    if (name)
        snprintf(text, size, "%ld (-%s)", value, name);
    else
        snprintf(text, size, "%ld", value);
    return text;
}

/* A step whose result must be WANT: "ok STEP: GOT" or "not ok STEP: GOT, want WANT". */
static inline void expect(const char *step, long got, long want)
{
    char got_text[48], want_text[48];
    value_text(got, got_text, sizeof got_text);
    if (got == want) {
        say("ok %s: %s", step, got_text);
    } else {
        say("not ok %s: %s, want %s", step, got_text, value_text(want, want_text, sizeof want_text));
        sandbox_failures++;
    }
}

/* A step whose event, the one with data ID among the COUNT in EVENTS, must
 * have res WANT. */
static inline void expect_event(const char *step, const struct io_event *events, int count, long id, long want)
{
    for (int i = 0; i < count; i++)
        if ((long)events[i].data == id) {
            expect(step, events[i].res, want);
            return;
        }
    say("not ok %s: no event", step);
    sandbox_failures++;
}

/* Stops the program, before the filter, when its set-up fails. */
static inline void require(const char *what, int ok)
{
    if (!ok) {
        say("not ok %s (cannot continue; errno %d)", what, errno);
        exit(1);
    }
}

static inline int switched_on(const char *name)
{
    const char *value = getenv(name);
    return value && *value && strcmp(value, "0") != 0;
}

/* Handles SANDBOX_LIST_ALLOWED; call first in main. */
static inline void list_allowed_if_asked(const struct allowed_syscall *allowed, int count)
{
    if (!switched_on("SANDBOX_LIST_ALLOWED"))
        return;
    for (int i = 0; i < count; i++)
        say("%s", allowed[i].name);
    exit(0);
}

/* Installs the filter with FLAGS (SECCOMP_FILTER_FLAG_TSYNC: for every
 * thread), unless SANDBOX_NO_FILTER is set. Everything the program needs
 * beyond the allowlist must be done before. */
static inline void enter_sandbox(const struct allowed_syscall *allowed, int count, unsigned flags)
{
    enum { HEAD = 3, MAX_ALLOWED = 32 };
    struct sock_filter code[HEAD + MAX_ALLOWED + 2] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, THIS_AUDIT_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    };
    require("an allowlist of at most 32 syscalls", count <= MAX_ALLOWED);
    int kill = HEAD + 1 + count, allow = kill + 1;
    code[HEAD] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (int i = 0; i < count; i++) {
        int at = HEAD + 1 + i;
        code[at] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, allowed[i].nr, allow - at - 1, 0);
    }
    code[kill] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
    code[allow] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog program = {.len = (unsigned short)(allow + 1), .filter = code};

    require("prctl(PR_SET_NO_NEW_PRIVS)", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
    if (switched_on("SANDBOX_NO_FILTER"))
        return;
    require("seccomp(SECCOMP_SET_MODE_FILTER)", syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program) == 0);
}

static const struct timespec zero_timeout = {0, 0};
#define ZERO_TIMEOUT ((struct timespec *)&zero_timeout)

#endif
