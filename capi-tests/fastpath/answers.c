/* Calls on a live context with an event ready, which the fast path could
 * serve, but whose answer must be the kernel's: bad arguments (-EINVAL,
 * -EFAULT, never a crash, the event left in the ring), a pending signal
 * that io_pgetevents's mask lets through, and a signal handler that reaps
 * while the thread it interrupted was reaping. Each bad-argument call runs
 * in a child process with a context of its own, so that a crash fails one
 * check only. */
#include "fastpath.h"
#include <sys/time.h>

/* Stands for a real array of events in the table below. */
#define EVENTS_ARRAY ((void *)1)

static const struct bad_args {
    const char *what;
    long min_nr, nr;
    void *events, *timeout;
    long want;
} bad_args[] = {
    {"min_nr -1", -1, 1, EVENTS_ARRAY, NULL, -EINVAL},
    {"nr -1", 0, -1, EVENTS_ARRAY, NULL, -EINVAL},
    {"min_nr 2 > nr 1", 2, 1, EVENTS_ARRAY, NULL, -EINVAL},
    {"NULL events", 1, 1, NULL, NULL, -EFAULT},
    {"events at address 8", 1, 1, FIRST_PAGE_ADDRESS, NULL, -EFAULT},
    {"events in the kernel half", 1, 1, KERNEL_ADDRESS, NULL, -EFAULT},
    {"timeout at address 8", 1, 1, EVENTS_ARRAY, FIRST_PAGE_ADDRESS, -EFAULT},
    {"timeout in the kernel half", 1, 1, EVENTS_ARRAY, KERNEL_ADDRESS, -EFAULT},
    {"min_nr -1 and timeout at address 8 (timeout checked first)", -1, 1, EVENTS_ARRAY, FIRST_PAGE_ADDRESS, -EFAULT},
    {"NULL events, nr 0", 0, 0, NULL, NULL, 0},
};

#define READY_ID 7

struct bad_call {
    const struct bad_args *args;
    int pgetevents;
    char name[160];
};

/* In a child: one bad call on a fresh context holding one ready event. */
static long make_bad_call(const void *arg)
{
    const struct bad_call *call = arg;
    const struct bad_args *a = call->args;
    struct io_event ev[4];
    char name[256];
    io_context_t ctx = new_ctx(8);
    void *events = a->events == EVENTS_ARRAY ? ev : a->events;

    submit_zero_reads(ctx, 1, READY_ID);
    snprintf(name, sizeof name, "%s: the kernel's own answer", call->name);
    CHECK(name, kernel_getevents(ctx, a->min_nr, a->nr, events, a->timeout), a->want);
    long ret = call->pgetevents ? LIB(io_pgetevents(ctx, a->min_nr, a->nr, events, a->timeout, NULL))
                                : LIB(io_getevents(ctx, a->min_nr, a->nr, events, a->timeout));
    snprintf(name, sizeof name, "%s: leaves the event in the ring", call->name);
    CHECK(name, io_getevents(ctx, 0, 4, ev, ZERO_TIMEOUT), 1);
    check_zero_events(name, ev, 1, READY_ID);
    return ret;
}

static void bad_arguments_get_the_kernels_answer(void)
{
    static const char *const functions[] = {"io_getevents", "io_pgetevents"};
    for (size_t i = 0; i < sizeof bad_args / sizeof bad_args[0]; i++) {
        for (int pgetevents = 0; pgetevents < 2; pgetevents++) {
            struct bad_call call = {&bad_args[i], pgetevents, ""};
            snprintf(call.name, sizeof call.name, "%s with an event ready and %s", functions[pgetevents],
                     bad_args[i].what);
            check_isolated(call.name, make_bad_call, &call, bad_args[i].want, 10);
        }
    }
}

static volatile sig_atomic_t usr1_handled;
static void count_usr1(int sig)
{
    (void)sig;
    usr1_handled++;
}

/* The kernel (and upstream, which makes the syscall here) runs the handler
 * of a pending signal that the mask unblocks, as pselect does. */
static void pgetevents_delivers_a_pending_signal_its_mask_unblocks(void)
{
    struct sigaction action = {.sa_handler = count_usr1};
    sigset_t usr1, unblocked;
    struct io_event ev;
    io_context_t ctx = new_ctx(8);

    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigaction(SIGUSR1, &action, NULL);
    pthread_sigmask(SIG_BLOCK, &usr1, &unblocked);
    raise(SIGUSR1);
    submit_zero_reads(ctx, 1, READY_ID);
    CHECK("io_pgetevents(min_nr 1, mask unblocking a pending SIGUSR1), 1 ready: 1",
          LIB(io_pgetevents(ctx, 1, 1, &ev, NULL, &unblocked)), 1);
    CHECK("io_pgetevents(mask unblocking a pending SIGUSR1), 1 ready: runs the handler", usr1_handled, 1);
    pthread_sigmask(SIG_SETMASK, &unblocked, NULL);
    signal(SIGUSR1, SIG_DFL);
    io_destroy(ctx);
}

/* Reaping from a signal handler: upstream's reaping calls are plain
 * syscalls, safe in a handler, whatever the interrupted thread was doing.
 * In ours, a handler that interrupted its own thread's reap of the same ring
 * takes nothing, since that reap has copied events it has not yet given
 * back: a poll answers 0 and a wait -EINTR. */
struct handler_call {
    long min_nr;
    struct timespec *timeout;
    long period_us; /* of the timer; well above a wait's length, or the handler runs back to back */
};
static const struct handler_call *handler_call;
static io_context_t handler_ctx;
static volatile long handler_reaped, handler_calls, handler_eintr, handler_errors;

static void reap_in_handler(int sig)
{
    struct io_event ev[4];
    int saved_errno = errno;
    (void)sig;
    int ret = io_getevents(handler_ctx, handler_call->min_nr, 4, ev, handler_call->timeout);
    handler_reaped += ret > 0 ? ret : 0;
    handler_calls++;
    if (ret == -EINTR && handler_call->timeout != ZERO_TIMEOUT)
        handler_eintr++;
    else if (ret < 0)
        handler_errors++;
    errno = saved_errno;
}

/* In a child: for one second, submits and reaps reads of /dev/zero while a
 * timer reaps too from its handler, making `call` there. Returns reaped -
 * submitted. */
static long reap_while_a_handler_reaps(const void *call)
{
    struct sigaction action = {.sa_handler = reap_in_handler, .sa_flags = SA_RESTART};
    struct itimerval off = {{0, 0}, {0, 0}};
    struct io_event ev[4];
    struct timespec start;
    long submitted = 0, reaped = 0;

    handler_call = call;
    struct itimerval every_period = {{0, handler_call->period_us}, {0, handler_call->period_us}};

    handler_ctx = new_ctx(64);
    sigaction(SIGALRM, &action, NULL);
    setitimer(ITIMER_REAL, &every_period, NULL);
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (elapsed_ms(&start) < 1000) {
        submit_zero_reads(handler_ctx, 1, submitted++);
        int ret = io_getevents(handler_ctx, 0, 4, ev, ZERO_TIMEOUT);
        reaped += ret > 0 ? ret : 0;
    }
    setitimer(ITIMER_REAL, &off, NULL);
    for (int ret; (ret = io_getevents(handler_ctx, 0, 4, ev, ZERO_TIMEOUT)) > 0;)
        reaped += ret;
    CHECK_TRUE("the handler reaped while the main loop reaped", handler_calls > 0);
    CHECK("no error in the handler but -EINTR for a wait", handler_errors, 0);
    printf("the handler made %ld calls, reaped %ld events, and got -EINTR %ld times\n", handler_calls,
           handler_reaped, handler_eintr);
    return reaped + handler_reaped - submitted;
}

int main(void)
{
    bad_arguments_get_the_kernels_answer();
    pgetevents_delivers_a_pending_signal_its_mask_unblocks();
    static struct timespec short_wait = {0, 20000};
    static const struct handler_call poll = {0, ZERO_TIMEOUT, 100}, wait = {1, &short_wait, 1000};
    check_isolated("polling in a signal handler that interrupted a reap: every event once, no hang",
                   reap_while_a_handler_reaps, &poll, 0, 5);
    check_isolated("waiting in a signal handler that interrupted a reap: every event once, no hang",
                   reap_while_a_handler_reaps, &wait, 0, 5);
    return check_finish();
}
