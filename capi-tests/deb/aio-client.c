/* An ordinary libaio client, built inside the throwaway root against the
 * installed libaio.h: writes one block to the file named by argv[1] through
 * io_setup/io_submit/io_getevents/io_destroy, and names the file that
 * io_setup's code is mapped from (from /proc/self/maps), so that the test
 * can tell which library the loader bound it to. */
#include <fcntl.h>
#include <libaio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define BLOCK 4096

/* Prints the path of the mapping that holds address, as "mapped: PATH". */
static void print_mapping_of(uintptr_t address)
{
    FILE *maps = fopen("/proc/self/maps", "r");
    char line[4096];
    while (maps && fgets(line, sizeof line, maps)) {
        unsigned long start, end;
        int path_at = 0;
        if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &start, &end, &path_at) == 2 && path_at > 0 &&
            start <= address && address < end)
            printf("mapped: %s", line + path_at);
    }
    if (maps)
        fclose(maps);
}

int main(int argc, char **argv)
{
    static char block[BLOCK];
    io_context_t ctx = 0;
    struct iocb iocb, *iocbs[1] = {&iocb};
    struct io_event event = {0};
    if (argc != 2)
        return 2;
    int fd = open(argv[1], O_CREAT | O_TRUNC | O_WRONLY, 0600);
    memset(block, 'a', sizeof block);

    int setup = io_setup(8, &ctx);
    printf("%s io_setup: %d\n", setup == 0 ? "ok" : "not ok", setup);
    io_prep_pwrite(&iocb, fd, block, sizeof block, 0);
    int submitted = io_submit(ctx, 1, iocbs);
    printf("%s io_submit of one write: %d\n", submitted == 1 ? "ok" : "not ok", submitted);
    int reaped = io_getevents(ctx, 1, 1, &event, NULL);
    printf("%s io_getevents: %d event, res %ld\n", reaped == 1 && (long)event.res == BLOCK ? "ok" : "not ok",
           reaped, (long)event.res);
    int destroyed = io_destroy(ctx);
    printf("%s io_destroy: %d\n", destroyed == 0 ? "ok" : "not ok", destroyed);
    print_mapping_of((uintptr_t)io_setup);
    return close(fd);
}
