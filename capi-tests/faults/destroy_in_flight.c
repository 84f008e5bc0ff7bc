/* io_destroy with requests in flight waits for them: O_DIRECT reads on a
 * loop device (FAULTS_LOOP_DEVICE, direct I/O over a tmpfs file, so they
 * complete in a kernel worker) have all landed when it returns, and their
 * buffers are not written afterwards; POLLs still waiting are cancelled. */
#include "faults.h"

#define ROUNDS 24
/* Whether a round's reads are still in flight after io_submit is up to the
 * scheduler; rounds go on until one was, up to this many. */
#define MAX_ROUNDS (10 * ROUNDS)
#define READS 16
#define READ_BYTES (64 * 1024)
#define DEVICE_BYTE 0x5a
#define UNREAD_BYTE 0xaa

static int all_bytes(const unsigned char *buf, size_t len, unsigned char byte)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != byte)
            return 0;
    return 1;
}

static void direct_reads(const char *device)
{
    int fd = open(device, O_RDWR | O_DIRECT);
    REQUIRE("open the loop device with O_DIRECT", fd >= 0);
    unsigned char *bufs;
    REQUIRE("posix_memalign", posix_memalign((void **)&bufs, 4096, READS * READ_BYTES) == 0);
    memset(bufs, DEVICE_BYTE, READS * READ_BYTES);
    REQUIRE("fill the device", pwrite(fd, bufs, READS * READ_BYTES, 0) == READS * READ_BYTES);
    REQUIRE("fsync the device", fsync(fd) == 0);

    struct iocb cbs[READS], *ptrs[READS];
    int landed = 1, untouched = 1, in_flight_rounds = 0, destroyed = 1, rounds = 0;
    for (; rounds < ROUNDS || (in_flight_rounds == 0 && rounds < MAX_ROUNDS); rounds++) {
        io_context_t ctx = new_ctx(READS);
        memset(bufs, UNREAD_BYTE, READS * READ_BYTES);
        for (int i = 0; i < READS; i++) {
            io_prep_pread(&cbs[i], fd, bufs + i * READ_BYTES, READ_BYTES, (long long)i * READ_BYTES);
            ptrs[i] = &cbs[i];
        }
        REQUIRE("io_submit of the O_DIRECT reads", io_submit(ctx, READS, ptrs) == READS);
        /* Completions already in the ring; the rest are still in flight. */
        in_flight_rounds += RING_OF(ctx)->tail < READS;
        destroyed &= LIB(io_destroy(ctx)) == 0;
        landed &= all_bytes(bufs, READS * READ_BYTES, DEVICE_BYTE);
        /* As upstream's harness 18.t: nothing may write them any more. */
        memset(bufs, UNREAD_BYTE, READS * READ_BYTES);
        sleep_ms(2);
        untouched &= all_bytes(bufs, READS * READ_BYTES, UNREAD_BYTE);
    }
    CHECK_TRUE("io_destroy with O_DIRECT reads in flight returns 0", destroyed);
    printf("rounds with reads still in flight at io_destroy: %d of %d\n", in_flight_rounds, rounds);
    CHECK_TRUE("some rounds destroyed the context with reads still in flight", in_flight_rounds > 0);
    CHECK_TRUE("every read has landed when io_destroy returns", landed);
    CHECK_TRUE("no buffer is written after io_destroy returns", untouched);
    free(bufs);
    close(fd);
}

static void waiting_polls(void)
{
    struct iocb polls[8];
    int efd = eventfd(0, EFD_NONBLOCK);
    REQUIRE("eventfd", efd >= 0);
    io_context_t ctx = new_ctx(8);
    for (int i = 0; i < 8; i++) {
        io_prep_poll(&polls[i], efd, POLLIN);
        submit_one(ctx, &polls[i]);
    }
    CHECK("io_destroy with POLLs waiting returns 0 (they are cancelled)", LIB(io_destroy(ctx)), 0);
    close(efd);
}

int main(void)
{
    const char *device = getenv("FAULTS_LOOP_DEVICE");
    watchdog(30);
    if (device && *device)
        direct_reads(device);
    else
        printf("no loop device (FAULTS_LOOP_DEVICE): skipping the O_DIRECT reads\n");
    waiting_polls();
    return check_finish();
}
