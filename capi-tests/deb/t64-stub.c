/* A link-time stand-in for the libaio.so.1t64 of Debian 13 and Ubuntu 24.04
 * (package libaio1t64): its SONAME (given on the command line) and, through
 * t64-stub.map, the versions of the four functions aio-client.c calls, so
 * that aio-client linked against it asks for libaio.so.1t64 and for those
 * versions exactly as a program built there does. It is never loaded: at run
 * time the loader finds the installed libaio.so.1t64. */
int io_setup(void) { return -1; }
int io_destroy(void) { return -1; }
int io_submit(void) { return -1; }
int io_getevents(void) { return -1; }
