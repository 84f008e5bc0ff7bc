/* A program that loads the library with dlopen and unloads it with dlclose,
 * as plugin hosts do, must outlive it: what the library registered with
 * glibc (the fork handler of its first io_setup; with LIBAIO_RS_STATS, the
 * report's exit handler) goes with it, and nothing calls into the unmapped
 * library at the next fork or at exit. Built without -laio; the library it
 * must load is named by UNLOAD_EXPECTS. */
#include "check.h"
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

typedef int setup_fn(int maxevents, io_context_t *ctxp);
typedef int destroy_fn(io_context_t ctx);

int main(void)
{
    void *lib = dlopen("libaio.so.1", RTLD_NOW | RTLD_LOCAL);
    REQUIRE("dlopen libaio.so.1", lib != NULL);
    setup_fn *setup = (setup_fn *)dlsym(lib, "io_setup");
    destroy_fn *destroy = (destroy_fn *)dlsym(lib, "io_destroy");
    REQUIRE("dlsym io_setup and io_destroy", setup != NULL && destroy != NULL);
    Dl_info info;
    char loaded[PATH_MAX], expected[PATH_MAX];
    REQUIRE("dladdr io_setup", dladdr((void *)setup, &info) && realpath(info.dli_fname, loaded));
    REQUIRE("UNLOAD_EXPECTS names a file", getenv("UNLOAD_EXPECTS") && realpath(getenv("UNLOAD_EXPECTS"), expected));
    printf("# loaded %s\n", loaded);
    CHECK_TRUE("dlopen loaded UNLOAD_EXPECTS", strcmp(loaded, expected) == 0);
    io_context_t ctx = 0;
    CHECK("io_setup", setup(8, &ctx), 0);
    CHECK("io_destroy", destroy(ctx), 0);
    CHECK("dlclose", dlclose(lib), 0);
    CHECK_TRUE("the library is unloaded", dlopen("libaio.so.1", RTLD_NOW | RTLD_NOLOAD) == NULL);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    int status = -1;
    REQUIRE("fork and wait", child > 0 && waitpid(child, &status, 0) == child);
    CHECK("a child forked after dlclose exits 0: no fork handler of the library is left", status, 0);
    /* The exit that follows runs no exit handler of the library either. */
    return check_finish();
}
