/*
 * Prints where the kernel's uapi (linux/aio_abi.h, of the architecture it is
 * compiled for) puts each field of struct iocb and struct io_event, under
 * the names libaio.h gives them, in probe.c's format without the type: the
 * header suite requires the same lines in probe.c's output for libaio.h.
 */
#include <linux/aio_abi.h>
#include <stddef.h>
#include <stdio.h>

#define FIELD(s, kernel, libaio)                                          \
    printf("field %s.%s offset=%zu size=%zu\n", #s, libaio,               \
           offsetof(struct s, kernel), sizeof(((struct s *)0)->kernel))

int main(void)
{
    printf("type struct iocb size=%zu align=%zu\n", sizeof(struct iocb), _Alignof(struct iocb));
    FIELD(iocb, aio_data, "data");
    FIELD(iocb, aio_key, "key");
    FIELD(iocb, aio_rw_flags, "aio_rw_flags");
    FIELD(iocb, aio_lio_opcode, "aio_lio_opcode");
    FIELD(iocb, aio_reqprio, "aio_reqprio");
    FIELD(iocb, aio_fildes, "aio_fildes");
    FIELD(iocb, aio_buf, "u.c.buf");
    FIELD(iocb, aio_nbytes, "u.c.nbytes");
    FIELD(iocb, aio_offset, "u.c.offset");
    FIELD(iocb, aio_reserved2, "u.c.__pad3");
    FIELD(iocb, aio_flags, "u.c.flags");
    FIELD(iocb, aio_resfd, "u.c.resfd");
    printf("type struct io_event size=%zu align=%zu\n", sizeof(struct io_event), _Alignof(struct io_event));
    FIELD(io_event, data, "data");
    FIELD(io_event, obj, "obj");
    FIELD(io_event, res, "res");
    FIELD(io_event, res2, "res2");
    return 0;
}
