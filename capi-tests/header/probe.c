/*
 * Prints what a program compiled against libaio.h sees of it: the enum
 * values, the size and alignment of every type, the offset, size and type
 * of every field ("other" for structs and unions), and the bytes each
 * inline helper writes into an iocb. The header suite builds it against
 * the system's libaio.h and against ours and requires identical output.
 *
 * It defines io_submit itself, so it links without any libaio and the
 * helpers that submit (io_poll, io_fsync, io_fdsync) are seen from both
 * sides: what they pass to io_submit and what they return.
 */
#include <libaio.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TYPE_NAME(x) _Generic((x),                                  \
    short: "short", int: "int", unsigned: "unsigned int",           \
    long: "long", unsigned long: "unsigned long",                   \
    long long: "long long", void *: "void *",                       \
    struct iocb *: "struct iocb *",                                 \
    struct sockaddr *: "struct sockaddr *",                         \
    const struct iovec *: "const struct iovec *",                   \
    default: "other")

#define TYPE(t) printf("type %s size=%zu align=%zu\n", #t, sizeof(t), _Alignof(t))

#define FIELD(s, f)                                                 \
    printf("field %s.%s offset=%zu size=%zu type=%s\n", #s, #f,     \
           offsetof(struct s, f), sizeof(((struct s *)0)->f),       \
           TYPE_NAME(((struct s *)0)->f))

#define ENUM_VALUE(v) printf("enum %s=%d\n", #v, (int)(v))

static void print_layout(void)
{
    ENUM_VALUE(IO_CMD_PREAD);
    ENUM_VALUE(IO_CMD_PWRITE);
    ENUM_VALUE(IO_CMD_FSYNC);
    ENUM_VALUE(IO_CMD_FDSYNC);
    ENUM_VALUE(IO_CMD_POLL);
    ENUM_VALUE(IO_CMD_NOOP);
    ENUM_VALUE(IO_CMD_PREADV);
    ENUM_VALUE(IO_CMD_PWRITEV);

    TYPE(io_context_t);
    TYPE(io_iocb_cmd_t);
    TYPE(enum io_iocb_cmd);
    TYPE(io_callback_t);
    TYPE(struct io_iocb_common);
    TYPE(struct io_iocb_vector);
    TYPE(struct io_iocb_poll);
    TYPE(struct io_iocb_sockaddr);
    TYPE(struct iocb);
    TYPE(struct io_event);
    TYPE(struct io_sigset);
    TYPE(struct io_sigset_compat);

    FIELD(iocb, data);
    FIELD(iocb, key);
    FIELD(iocb, aio_rw_flags);
    FIELD(iocb, aio_lio_opcode);
    FIELD(iocb, aio_reqprio);
    FIELD(iocb, aio_fildes);
    FIELD(iocb, u);
    FIELD(iocb, u.c);
    FIELD(iocb, u.c.buf);
    FIELD(iocb, u.c.nbytes);
    FIELD(iocb, u.c.offset);
    FIELD(iocb, u.c.__pad3);
    FIELD(iocb, u.c.flags);
    FIELD(iocb, u.c.resfd);
    FIELD(iocb, u.v);
    FIELD(iocb, u.v.vec);
    FIELD(iocb, u.v.nr);
    FIELD(iocb, u.v.offset);
    FIELD(iocb, u.poll);
    FIELD(iocb, u.poll.events);
    FIELD(iocb, u.poll.__pad1);
    FIELD(iocb, u.saddr);
    FIELD(iocb, u.saddr.addr);
    FIELD(iocb, u.saddr.len);
    FIELD(io_event, data);
    FIELD(io_event, obj);
    FIELD(io_event, res);
    FIELD(io_event, res2);
    FIELD(io_sigset, ss);
    FIELD(io_sigset, ss_len);
    FIELD(io_sigset_compat, ss);
    FIELD(io_sigset_compat, ss_len);
}

/* Distinctive argument values: every byte of each differs from 0xAA and 0. */
#define CTX ((io_context_t)(uintptr_t)0x1c2c3c4c5c6c7c8cULL)
#define BUF ((void *)(uintptr_t)0x1b2b3b4b5b6b7b8bULL)
#define IOV ((const struct iovec *)(uintptr_t)0x1d2d3d4d5d6d7d8dULL)
#define CALLBACK ((io_callback_t)(uintptr_t)0x1e2e3e4e5e6e7e8eULL)
#define FD 0x71727374
#define COUNT ((size_t)0x1a2a3a4a5a6a7a8aULL)
#define OFFSET 0x1f2f3f4f5f6f7f8fLL
/* Negative, to show how the int count of io_prep_preadv and friends widens. */
#define IOVCNT (-0x61626364)
#define RWF_FLAGS 0x41424344
#define POLL_EVENTS 0x51525354
#define EVENTFD 0x31323334
#define SUBMIT_RESULT 0x2468

static struct iocb request;

/* What the last io_submit call received. */
static struct {
    io_context_t ctx;
    long nr;
    struct iocb *first;
} submitted;

/* Stands in for the library's io_submit, which io_poll, io_fsync and io_fdsync call. */
int io_submit(io_context_t ctx, long nr, struct iocb *ios[])
{
    submitted.ctx = ctx;
    submitted.nr = nr;
    submitted.first = ios[0];
    return SUBMIT_RESULT;
}

static void fill_request(void)
{
    memset(&request, 0xAA, sizeof(request));
}

static void dump_request(const char *helper)
{
    const unsigned char *byte = (const unsigned char *)&request;
    printf("%s:", helper);
    for (size_t i = 0; i < sizeof(request); i++)
        printf("%s%02x", i % 8 ? "" : " ", byte[i]);
    printf("\n");
}

/* Runs one helper call on a 0xAA-filled iocb and prints the bytes it leaves. */
#define PREP(call) do { fill_request(); call; dump_request(#call); } while (0)

/* The same for a helper that submits, plus what it passed and returned. */
#define SUBMIT(call)                                                          \
    do {                                                                      \
        fill_request();                                                       \
        memset(&submitted, 0, sizeof(submitted));                             \
        int result = call;                                                    \
        dump_request(#call);                                                  \
        printf("  io_submit(ctx %s, nr %ld, ios[0] %s) -> returned %#x\n",    \
               submitted.ctx == CTX ? "as given" : "changed", submitted.nr,   \
               submitted.first == &request ? "the iocb" : "another iocb",     \
               result);                                                       \
    } while (0)

static void print_helpers(void)
{
    PREP(io_set_callback(&request, CALLBACK));
    PREP(io_prep_pread(&request, FD, BUF, COUNT, OFFSET));
    PREP(io_prep_pwrite(&request, FD, BUF, COUNT, OFFSET));
    PREP(io_prep_preadv(&request, FD, IOV, IOVCNT, OFFSET));
    PREP(io_prep_pwritev(&request, FD, IOV, IOVCNT, OFFSET));
    PREP(io_prep_preadv2(&request, FD, IOV, IOVCNT, OFFSET, RWF_FLAGS));
    PREP(io_prep_pwritev2(&request, FD, IOV, IOVCNT, OFFSET, RWF_FLAGS));
    PREP(io_prep_poll(&request, FD, POLL_EVENTS));
    PREP(io_prep_fsync(&request, FD));
    PREP(io_prep_fdsync(&request, FD));
    PREP(io_set_eventfd(&request, EVENTFD));
    /* io_set_eventfd is meant to follow an io_prep_*. */
    PREP((io_prep_pread(&request, FD, BUF, COUNT, OFFSET), io_set_eventfd(&request, EVENTFD)));
    SUBMIT(io_poll(CTX, &request, CALLBACK, FD, POLL_EVENTS));
    SUBMIT(io_fsync(CTX, &request, CALLBACK, FD));
    SUBMIT(io_fdsync(CTX, &request, CALLBACK, FD));
}

int main(void)
{
    print_layout();
    print_helpers();
    return 0;
}
