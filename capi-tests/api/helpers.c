/* The exported helper functions (node LIBAIO_RS_0.3.113, for FFI callers
 * that cannot use the header's inline functions) must do exactly what the
 * header's inline versions do. Built once with our header and once with the
 * system one, whose inline helpers are upstream's. */
#include "check.h"
#include <dlfcn.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#define HELPERS_NODE "LIBAIO_RS_0.3.113"

static void *lib;

/* The library's exported HELPER, with the inline helper's own type. */
#define EXPORTED(helper) ((__typeof__(helper) *)exported_helper(#helper, (void *)helper))

static void *exported_helper(const char *name, void *inline_version)
{
    void *sym = dlvsym(lib, name, HELPERS_NODE);
    char what[96];
    snprintf(what, sizeof what, "%s@%s is exported", name, HELPERS_NODE);
    REQUIRE(what, sym != NULL);
    snprintf(what, sizeof what, "dlsym finds %s@%s", name, HELPERS_NODE);
    CHECK(what, dlsym(lib, name), sym);
    snprintf(what, sizeof what, "the header's %s is inline, not the library's", name);
    CHECK_TRUE(what, sym != inline_version);
    return sym;
}

/* Starting from each of these iocb contents, both versions must leave the
 * same 64 bytes: helpers without memset must keep what was there. */
static const unsigned char fill_patterns[] = {0x00, 0xA4, 0xFF};

#define CHECK_SAME_BYTES(helper, ...)                                         \
    do {                                                                      \
        __typeof__(helper) *exported_ = EXPORTED(helper);                     \
        int same_ = 1;                                                        \
        for (size_t p_ = 0; p_ < sizeof fill_patterns; p_++) {                \
            struct iocb by_inline_, by_export_;                               \
            memset(&by_inline_, fill_patterns[p_], sizeof by_inline_);        \
            memset(&by_export_, fill_patterns[p_], sizeof by_export_);        \
            helper(&by_inline_, __VA_ARGS__);                                 \
            exported_(&by_export_, __VA_ARGS__);                              \
            same_ &= !memcmp(&by_inline_, &by_export_, sizeof by_inline_);    \
        }                                                                     \
        CHECK_TRUE(#helper " writes the same 64 bytes as the inline one", same_); \
    } while (0)

static void callback(io_context_t ctx, struct iocb *iocb, long res, long res2)
{
    record_call(ctx, iocb, res, res2);
}

/* io_poll, io_fsync and io_fdsync also submit: both versions must leave the
 * same iocb, return the same count, and complete with the same result. */
#define CHECK_SAME_SUBMISSION(helper, ctx, fd, ...)                               \
    do {                                                                      \
        __typeof__(helper) *exported_ = EXPORTED(helper);                     \
        struct iocb by_inline_, by_export_;                                   \
        memset(&by_inline_, 0xA4, sizeof by_inline_);                         \
        memset(&by_export_, 0xA4, sizeof by_export_);                         \
        recorded_count = 0;                                                   \
        CHECK(#helper " inline submits", helper(ctx, &by_inline_, callback, fd, ##__VA_ARGS__), 1); \
        CHECK(#helper " exported submits", exported_(ctx, &by_export_, callback, fd, ##__VA_ARGS__), 1); \
        CHECK_TRUE(#helper " leaves the same 64 bytes as the inline one",     \
                   !memcmp(&by_inline_, &by_export_, sizeof by_inline_));     \
        CHECK(#helper " requests complete", run_until_recorded(ctx, 2), 0);   \
        CHECK(#helper " requests complete once each", recorded_count, 2);     \
        CHECK(#helper " requests complete alike", recorded[0].res, recorded[1].res); \
        CHECK(#helper " exported with a bad fd", exported_(ctx, &by_export_, callback, -1, ##__VA_ARGS__), -EBADF); \
    } while (0)

int main(void)
{
    lib = dlopen("libaio.so.1", RTLD_NOW | RTLD_NOLOAD);
    REQUIRE("libaio.so.1 is loaded", lib != NULL);
    void *buf = (void *)0x1122334455667788;
    struct iovec *iov = (struct iovec *)0x0102030405060708;
    size_t count = 0x99aabbccddeeff00;
    long long offset = -0x123456789abcdefLL;

    CHECK_SAME_BYTES(io_prep_pread, 7, buf, count, offset);
    CHECK_SAME_BYTES(io_prep_pwrite, 8, buf, count, offset);
    CHECK_SAME_BYTES(io_prep_preadv, 9, iov, 0x7ffffff0, offset);
    CHECK_SAME_BYTES(io_prep_pwritev, 10, iov, -3, offset);
    CHECK_SAME_BYTES(io_prep_preadv2, 11, iov, 5, offset, 0x12345678);
    CHECK_SAME_BYTES(io_prep_pwritev2, 12, iov, 6, offset, -1);
    CHECK_SAME_BYTES(io_prep_poll, 13, POLLIN | POLLPRI | 0x40000000);
    CHECK_SAME_BYTES(io_prep_fsync, 14);
    CHECK_SAME_BYTES(io_prep_fdsync, -15);
    CHECK_SAME_BYTES(io_set_callback, callback);
    CHECK_SAME_BYTES(io_set_eventfd, 0x7eadbeef);

    io_context_t ctx = new_ctx(8);
    int efd = eventfd(1, 0), file = scratch_file();
    REQUIRE("eventfd", efd >= 0);
    CHECK_SAME_SUBMISSION(io_poll, ctx, efd, POLLIN);
    CHECK_SAME_SUBMISSION(io_fsync, ctx, file);
    CHECK_SAME_SUBMISSION(io_fdsync, ctx, file);
    CHECK("io_destroy", io_destroy(ctx), 0);
    return check_finish();
}
