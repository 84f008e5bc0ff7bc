/* Calls one function of each symbol version (LIBAIO_0.1, 0.4 and 0.5), so
 * that linking records all three, and checks they work. */
#include "check.h"
#include <signal.h>

int main(void)
{
    io_context_t ctx;
    CHECK("io_queue_init (LIBAIO_0.1)", io_queue_init(4, &ctx), 0);
    int zero = open_dev_zero();
    char bufs[2][4];
    struct iocb reads[2], *ptrs[2] = {&reads[0], &reads[1]};
    for (int i = 0; i < 2; i++)
        io_prep_pread(&reads[i], zero, bufs[i], sizeof bufs[i], 0);
    CHECK("io_submit (LIBAIO_0.1)", io_submit(ctx, 2, ptrs), 2);
    struct io_event ev;
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    CHECK("io_pgetevents (LIBAIO_0.5)", io_pgetevents(ctx, 1, 1, &ev, NULL, &mask), 1);
    CHECK("io_pgetevents returns the first read", ev.obj, &reads[0]);
    CHECK("io_getevents (LIBAIO_0.4)", io_getevents(ctx, 1, 1, &ev, NULL), 1);
    CHECK("io_getevents returns the second read", ev.obj, &reads[1]);
    CHECK("io_destroy (LIBAIO_0.4)", io_destroy(ctx), 0);
    return check_finish();
}
