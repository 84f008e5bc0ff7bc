/* Contexts up to /proc/sys/fs/aio-max-nr: io_setup succeeds while the
 * requests asked for fit under the limit, then fails with a clean -EAGAIN
 * (errno and *ctxp untouched) only because the next one would not fit, and
 * a destroyed context's share can be taken again. The checks hold while
 * other processes make or destroy contexts, except in the instant between
 * our call and our reading of aio-nr. resources.sh keeps the headroom small
 * enough for about sixteen contexts. */
#include "faults.h"

#define MAX_CONTEXTS 64

static long read_number(const char *path)
{
    FILE *f = fopen(path, "r");
    long value = -1;
    REQUIRE(path, f && fscanf(f, "%ld", &value) == 1);
    fclose(f);
    return value;
}

int main(void)
{
    io_context_t ctx[MAX_CONTEXTS + 1] = {0};
    watchdog(30);
    long max = read_number("/proc/sys/fs/aio-max-nr");
    long before = read_number("/proc/sys/fs/aio-nr");
    /* Each context counts what io_setup asked for against the limit. */
    int size = (max - before) / 16 > 0 ? (int)((max - before) / 16) : 1;
    int made = 0, ret;
    while ((ret = LIB(io_setup(size, &ctx[made]))) == 0 && made < MAX_CONTEXTS)
        made++;
    long at_refusal = read_number("/proc/sys/fs/aio-nr");
    printf("aio-max-nr %ld, aio-nr %ld before: %d contexts of %d, then %d; aio-nr %ld\n", max, before, made,
           size, ret, at_refusal);
    CHECK("past aio-max-nr, io_setup returns -EAGAIN", ret, -EAGAIN);
    CHECK("a refused io_setup leaves *ctxp alone", ctx[made], 0);
    CHECK_TRUE("it refuses only a context that would not fit", at_refusal + size > max);
    CHECK_TRUE("it made some first", made > 0);
    CHECK("io_queue_init is refused the same way", LIB(io_queue_init(size, &ctx[made])), -EAGAIN);

    CHECK("io_destroy of one context", LIB(io_destroy(ctx[0])), 0);
    ctx[0] = 0;
    CHECK("gives its share back: io_setup succeeds again", LIB(io_setup(size, &ctx[0])), 0);
    int destroyed = 1;
    for (int i = 0; i < made; i++)
        destroyed &= LIB(io_destroy(ctx[i])) == 0;
    CHECK_TRUE("io_destroy of every context", destroyed);
    return check_finish();
}
