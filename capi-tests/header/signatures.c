/*
 * Compiles only if libaio.h declares every function and typedef with
 * upstream's exact types: each is assigned to a pointer of the spelled-out
 * type, which -Werror turns into an error on any mismatch in C, and which
 * C++ rejects outright. Built as C (gnu11 and c11) and as C++, against the
 * system's header and ours.
 */
#include <libaio.h>
/* A second inclusion must be harmless, inline helpers included. */
#include <libaio.h>

int (*check_io_queue_init)(int, io_context_t *) = io_queue_init;
int (*check_io_queue_release)(io_context_t) = io_queue_release;
int (*check_io_queue_run)(io_context_t) = io_queue_run;
int (*check_io_setup)(int, io_context_t *) = io_setup;
int (*check_io_destroy)(io_context_t) = io_destroy;
int (*check_io_submit)(io_context_t, long, struct iocb *[]) = io_submit;
int (*check_io_cancel)(io_context_t, struct iocb *, struct io_event *) = io_cancel;
int (*check_io_getevents)(io_context_t, long, long, struct io_event *, struct timespec *) = io_getevents;
int (*check_io_pgetevents)(io_context_t, long, long, struct io_event *, struct timespec *,
                           sigset_t *) = io_pgetevents;

void (*check_io_set_callback)(struct iocb *, io_callback_t) = io_set_callback;
void (*check_io_prep_pread)(struct iocb *, int, void *, size_t, long long) = io_prep_pread;
void (*check_io_prep_pwrite)(struct iocb *, int, void *, size_t, long long) = io_prep_pwrite;
void (*check_io_prep_preadv)(struct iocb *, int, const struct iovec *, int, long long) = io_prep_preadv;
void (*check_io_prep_pwritev)(struct iocb *, int, const struct iovec *, int, long long) = io_prep_pwritev;
void (*check_io_prep_preadv2)(struct iocb *, int, const struct iovec *, int, long long, int) = io_prep_preadv2;
void (*check_io_prep_pwritev2)(struct iocb *, int, const struct iovec *, int, long long, int) = io_prep_pwritev2;
void (*check_io_prep_poll)(struct iocb *, int, int) = io_prep_poll;
void (*check_io_prep_fsync)(struct iocb *, int) = io_prep_fsync;
void (*check_io_prep_fdsync)(struct iocb *, int) = io_prep_fdsync;
int (*check_io_poll)(io_context_t, struct iocb *, io_callback_t, int, int) = io_poll;
int (*check_io_fsync)(io_context_t, struct iocb *, io_callback_t, int) = io_fsync;
int (*check_io_fdsync)(io_context_t, struct iocb *, io_callback_t, int) = io_fdsync;
void (*check_io_set_eventfd)(struct iocb *, int) = io_set_eventfd;

/* The typedefs, through pointers to them (no conversion applies). */
struct io_context **check_io_context_t = (io_context_t *)0;
enum io_iocb_cmd *check_io_iocb_cmd_t = (io_iocb_cmd_t *)0;
void (**check_io_callback_t)(io_context_t, struct iocb *, long, long) = (io_callback_t *)0;
