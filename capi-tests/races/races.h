/* Shared by the race programs (capi-tests/races), on top of the fault
 * helpers: each round runs in a forked child under a watchdog, and the
 * parent counts the children that were killed by a signal (a crash), that
 * the watchdog killed (a hang), and that reported a wrong answer (their
 * own "not ok" lines say which). RACES_ROUNDS=n runs n rounds instead of the
 * program's default. */
#ifndef RACES_H
#define RACES_H

#include "../faults/faults.h"

#define RACES_AT_ONCE 2

/* A round that takes longer than this hangs. */
#define ROUND_WATCHDOG_S 5

/* The kernel's answers to a poll (min_nr 0, zero timeout) of a context
 * that may be destroyed meanwhile: events, 0, -EINTR (when a signal is
 * pending and no event ready), or -EINVAL once it no longer knows the
 * context; and nothing but -EINVAL after that. *DEAD_SEEN tracks the
 * latter; with BEGAN_AFTER_DESTROY the call began after an io_destroy of it
 * returned 0. */
static inline int poll_answer_is_kernels(int ret, int max_events, int began_after_destroy, int *dead_seen)
{
    int dead_already = *dead_seen || began_after_destroy;
    *dead_seen |= ret == -EINVAL;
    return ret == -EINVAL || (!dead_already && (ret == -EINTR || (ret >= 0 && ret <= max_events)));
}

static inline int rounds_to_run(int default_rounds)
{
    const char *rounds = getenv("RACES_ROUNDS");
    return rounds && atoi(rounds) > 0 ? atoi(rounds) : default_rounds;
}

/* Wrong answers in this child (from any thread); the first rounds that get
 * some print a few, the others only count them. */
static int wrong_answers, rounds_that_print;

static inline void wrong_answer(const char *what, long got)
{
    if (__atomic_fetch_add(&wrong_answers, 1, __ATOMIC_RELAXED) < 2 && rounds_that_print > 0) {
        printf("not ok %s: got %ld\n", what, got);
        fflush(stdout); /* before the round perhaps crashes */
    }
}

/* Runs ROUND in a forked child ROUNDS times, RACES_AT_ONCE children at a
 * time (most of a round is io_destroy waiting for an RCU grace period);
 * prints how many rounds crashed, hung or got a wrong answer, with
 * WHY_IT_CRASHES (what a crash means and where to look) on the crash check.
 * Returns the exit status. */
static inline int run_rounds(const char *name, int rounds, void (*round)(void), const char *why_it_crashes)
{
    int crashed = 0, hung = 0, wrong = 0, first_signal = 0, running = 0;
    for (int started = 0, ended = 0; ended < rounds;) {
        if (started < rounds && running < RACES_AT_ONCE) {
            rounds_that_print = 3 - wrong;
            fflush(stdout);
            pid_t child = fork();
            REQUIRE("fork", child >= 0);
            if (child == 0) {
                watchdog(ROUND_WATCHDOG_S);
                round();
                fflush(stdout);
                _exit(wrong_answers ? 1 : 0);
            }
            started++;
            running++;
            continue;
        }
        int status;
        REQUIRE("waitpid", waitpid(-1, &status, 0) > 0);
        running--;
        ended++;
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM) {
            hung++;
        } else if (WIFSIGNALED(status)) {
            crashed++;
            first_signal = first_signal ? first_signal : WTERMSIG(status);
        } else {
            wrong += WEXITSTATUS(status) != 0;
        }
    }
    printf("%s: %d of %d rounds crashed\n", name, crashed, rounds);
    if (crashed)
        printf("not ok no round crashed: %d of %d were killed by a signal (first: %s); %s\n", crashed, rounds,
               strsignal(first_signal), why_it_crashes);
    else
        printf("ok no round crashed (%d rounds)\n", rounds);
    if (hung)
        printf("not ok no round hung: %d of %d were still running after %d s; a destroyer or a poller waits for "
               "something that never comes (run one round under gdb)\n",
               hung, rounds, ROUND_WATCHDOG_S);
    else
        printf("ok no round hung\n");
    if (wrong)
        printf("not ok every call got the kernel's answer: %d of %d rounds got another (see the lines above, "
               "each named after the kernel's answer); find where the library departs from it, and check that "
               "the program passes with LIBAIO_RS_FORCE_SYSCALL=1 (the kernel's own answers)\n",
               wrong, rounds);
    else
        printf("ok every call got the kernel's answer\n");
    return crashed || hung || wrong;
}

#endif
