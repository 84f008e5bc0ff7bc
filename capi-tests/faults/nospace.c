/* Errors of the I/O itself arrive in the event, not from io_submit: ENOSPC
 * when a filesystem fills up (a small tmpfs mounted at FAULTS_SMALL_FS) and
 * EFBIG past RLIMIT_FSIZE (with SIGXFSZ ignored), after a short write. */
#include "faults.h"
#include <sys/resource.h>
#include <sys/stat.h>

#define CHUNK (16 * 1024)

/* Submits one write of LEN bytes at OFFSET and returns its event's res. */
static long write_result(io_context_t ctx, int fd, const void *buf, size_t len, long long offset)
{
    struct iocb cb;
    struct io_event ev;
    io_prep_pwrite(&cb, fd, (void *)buf, len, offset);
    REQUIRE("io_submit accepts the write", LIB(io_submit(ctx, 1, (struct iocb *[]){&cb})) == 1);
    REQUIRE("its event", wait_one(ctx, &ev) == 1 && ev.obj == &cb);
    return (long)ev.res;
}

static void full_filesystem(io_context_t ctx, const char *dir)
{
    static char chunk[CHUNK];
    char path[4096];
    snprintf(path, sizeof path, "%s/fill", dir);
    int fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0600);
    REQUIRE("create a file on the small filesystem", fd >= 0);
    memset(chunk, 'x', sizeof chunk);
    long long written = 0;
    long res = 0;
    /* Chunk after chunk until one does not fit. */
    while (written < 64LL * 1024 * 1024) {
        res = write_result(ctx, fd, chunk, sizeof chunk, written);
        if (res != CHUNK)
            break;
        written += res;
    }
    printf("the filesystem took %lld bytes\n", written);
    CHECK_TRUE("some writes fit", written > 0);
    /* A partial write takes the last free bytes; the next one has none left. */
    if (res > 0 && res < CHUNK) {
        written += res;
        res = write_result(ctx, fd, chunk, sizeof chunk, written);
    }
    CHECK("the write that does not fit completes with res -ENOSPC", res, -ENOSPC);
    struct stat st;
    REQUIRE("fstat", fstat(fd, &st) == 0);
    CHECK("the file holds what the writes reported", st.st_size, written);
    struct iocb cb;
    struct io_event ev;
    io_prep_pread(&cb, fd, chunk, sizeof chunk, written);
    submit_one(ctx, &cb);
    CHECK("a read at the end of the full file gives 0", wait_one(ctx, &ev) == 1 ? (long)ev.res : -1, 0);
    close(fd);
    unlink(path);
}

static void file_size_limit(io_context_t ctx)
{
    static char buf[8192];
    struct rlimit limit = {8192, 8192};
    signal(SIGXFSZ, SIG_IGN);
    REQUIRE("setrlimit RLIMIT_FSIZE", setrlimit(RLIMIT_FSIZE, &limit) == 0);
    int fd = scratch_file();
    memset(buf, 'y', sizeof buf);
    CHECK("a write across RLIMIT_FSIZE is cut short at the limit", write_result(ctx, fd, buf, 8192, 4096), 4096);
    CHECK("a write at RLIMIT_FSIZE completes with res -EFBIG", write_result(ctx, fd, buf, 4096, 8192), -EFBIG);
    CHECK("an empty write at RLIMIT_FSIZE completes with res 0", write_result(ctx, fd, buf, 0, 8192), 0);
    close(fd);
}

int main(void)
{
    const char *small_fs = getenv("FAULTS_SMALL_FS");
    watchdog(20);
    io_context_t ctx = new_ctx(4);
    if (small_fs && *small_fs)
        full_filesystem(ctx, small_fs);
    else
        printf("no small filesystem (FAULTS_SMALL_FS): skipping ENOSPC\n");
    file_size_limit(ctx);
    CHECK("io_destroy", LIB(io_destroy(ctx)), 0);
    return check_finish();
}
