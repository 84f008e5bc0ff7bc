/* Shared by the fault programs (capi-tests/faults), on top of the fast-path
 * helpers (which bring api/check.h's "ok"/"not ok" reporting): a watchdog,
 * a signal that interrupts instead of restarting, and a way to act while a
 * thread waits inside a given syscall. */
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

/* Whether thread TID of this process is inside syscall NR now, as
 * /proc/self/task/TID/syscall tells (the syscall's number, then its arguments). */
static inline int in_syscall(pid_t tid, long nr)
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
    return current == nr;
}

/* Waits until thread TID is inside syscall NR, for at most five seconds:
 * then whatever comes next happens while it waits there. */
static inline void wait_until_in_syscall(pid_t tid, long nr)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!in_syscall(tid, nr) && elapsed_ms(&start) < 5000)
        sleep_ms(1);
}

struct waiting_signal {
    pthread_t thread, target;
    pid_t target_tid;
    long syscall_nr;
};

static void *signal_when_waiting(void *arg)
{
    struct waiting_signal *s = arg;
    wait_until_in_syscall(s->target_tid, s->syscall_nr);
    pthread_kill(s->target, SIGUSR1);
    return NULL;
}

/* Sends SIGUSR1 to the calling thread once it waits inside syscall NR;
 * join with signal_sent. */
static inline void signal_me_in_syscall(struct waiting_signal *s, long nr)
{
    s->target = pthread_self();
    s->target_tid = (pid_t)syscall(SYS_gettid);
    s->syscall_nr = nr;
    REQUIRE("pthread_create", pthread_create(&s->thread, NULL, signal_when_waiting, s) == 0);
}

static inline void signal_sent(struct waiting_signal *s)
{
    pthread_join(s->thread, NULL);
}

#endif
