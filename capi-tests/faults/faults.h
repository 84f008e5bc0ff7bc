/* Shared by the fault programs (capi-tests/faults), on top of the fast-path
 * helpers (which bring api/check.h's "ok"/"not ok" reporting): a watchdog,
 * a signal that interrupts instead of restarting, and a way to act while a
 * thread waits inside io_getevents or io_pgetevents. */
#ifndef FAULTS_H
#define FAULTS_H

#include "../fastpath/fastpath.h"
#include <poll.h>
#include <sys/eventfd.h>

/* Kills the program (a failed run) if it is still going after SECONDS:
 * a fault must never turn into a hang. */
static inline void watchdog(unsigned seconds)
{
    signal(SIGALRM, SIG_DFL);
    alarm(seconds);
}

static volatile sig_atomic_t signals_handled;

static void count_signal(int sig)
{
    (void)sig;
    signals_handled++;
}

/* SIGUSR1 runs count_signal, and interrupts a blocking call instead of
 * restarting it (no SA_RESTART). */
static inline void interrupt_with_sigusr1(void)
{
    struct sigaction sa = {.sa_handler = count_signal};
    sigemptyset(&sa.sa_mask);
    REQUIRE("sigaction", sigaction(SIGUSR1, &sa, NULL) == 0);
}

/* Whether thread TID of this process is inside a reaping syscall now, as
 * /proc/self/task/TID/syscall tells (the syscall's number, then its
 * arguments). Either one: a library may serve io_getevents with the
 * io_pgetevents syscall (Debian 13's libaio1t64 does). */
static inline int in_reaping_syscall(pid_t tid)
{
    char path[64];
    long current = -1;
    snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%ld", &current) != 1)
            current = -1;
        fclose(f);
    }
    return current == SYS_io_getevents || current == SYS_io_pgetevents;
}

/* Waits until thread TID waits inside a reaping syscall, for at most five
 * seconds: then whatever comes next happens while it waits there. */
static inline void wait_until_reaping(pid_t tid)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!in_reaping_syscall(tid) && elapsed_ms(&start) < 5000)
        sleep_ms(1);
}

struct waiting_signal {
    pthread_t thread, target;
    pid_t target_tid;
};

static void *signal_when_waiting(void *arg)
{
    struct waiting_signal *s = arg;
    wait_until_reaping(s->target_tid);
    pthread_kill(s->target, SIGUSR1);
    return NULL;
}

/* Sends SIGUSR1 to the calling thread once it waits inside a reaping
 * syscall; join with signal_sent. */
static inline void signal_me_when_reaping(struct waiting_signal *s)
{
    s->target = pthread_self();
    s->target_tid = (pid_t)syscall(SYS_gettid);
    REQUIRE("pthread_create", pthread_create(&s->thread, NULL, signal_when_waiting, s) == 0);
}

static inline void signal_sent(struct waiting_signal *s)
{
    pthread_join(s->thread, NULL);
}

#endif
