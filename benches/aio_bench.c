/* Library-overhead benchmarks: the same loops run through two libaio builds
 * loaded side by side with dlopen (RTLD_LOCAL), alternating A B A B.
 *
 *   aio_bench [--rounds N] [--scale F] [--only LABEL] [--workload NAME] SYSTEM_SO OUR_SO
 *
 * --only runs one side with no warm-up, so that a profiler sees exactly the
 * ops counted on its heap-calls line ("LABEL: H over N ops ...").
 *
 * Every I/O is a 512-byte read of /dev/zero, which completes inside
 * io_submit: what is left to measure is the library. Types and the inline
 * io_prep_* helpers come from the system <libaio.h>, so both sides run
 * byte-identical code apart from the library's own entry points.
 *
 * The program also counts heap calls (malloc, free, ...) made by anything in
 * the process while a timed loop runs: it defines those functions itself, and
 * the dynamic linker binds the libraries' calls to them (-rdynamic). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- heap-call counter ---- */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static atomic_int counting_heap_calls;
static atomic_long heap_calls;

static void note_heap_call(void)
{
	if (atomic_load_explicit(&counting_heap_calls, memory_order_relaxed))
		atomic_fetch_add_explicit(&heap_calls, 1, memory_order_relaxed);
}

void *malloc(size_t size) { note_heap_call(); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { note_heap_call(); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { note_heap_call(); return __libc_realloc(p, size); }
void *memalign(size_t align, size_t size) { note_heap_call(); return __libc_memalign(align, size); }
void *aligned_alloc(size_t align, size_t size) { note_heap_call(); return __libc_memalign(align, size); }
void free(void *p)
{
	if (p)
		note_heap_call();
	__libc_free(p);
}
int posix_memalign(void **out, size_t align, size_t size)
{
	note_heap_call();
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	void *p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* ---- the two libraries ---- */

struct aio_lib {
	const char *label;
	int (*setup)(int, io_context_t *);
	int (*destroy)(io_context_t);
	int (*submit)(io_context_t, long, struct iocb **);
	int (*getevents)(io_context_t, long, long, struct io_event *, struct timespec *);
	int (*queue_run)(io_context_t);
};

static void die(const char *what, long got)
{
	fprintf(stderr, "aio_bench: %s (got %ld)\n", what, got);
	exit(2);
}

static void *versioned_symbol(void *handle, const char *path, const char *name, const char *version)
{
	void *sym = dlvsym(handle, name, version);
	if (!sym) {
		fprintf(stderr, "aio_bench: %s has no %s@%s\n", path, name, version);
		exit(2);
	}
	return sym;
}

static struct aio_lib load_lib(const char *label, const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "aio_bench: %s\n", dlerror());
		exit(2);
	}
	return (struct aio_lib){
		.label = label,
		.setup = versioned_symbol(h, path, "io_setup", "LIBAIO_0.4"),
		.destroy = versioned_symbol(h, path, "io_destroy", "LIBAIO_0.4"),
		.submit = versioned_symbol(h, path, "io_submit", "LIBAIO_0.1"),
		.getevents = versioned_symbol(h, path, "io_getevents", "LIBAIO_0.4"),
		.queue_run = versioned_symbol(h, path, "io_queue_run", "LIBAIO_0.1"),
	};
}

/* ---- clock ---- */

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* User+sys time of this thread. getrusage(RUSAGE_THREAD) reports the same
 * sum but only as of the last scheduler tick; this clock includes the rest. */
static long long thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* What two back-to-back clock reads measure: the bias of timing one call.
 * The lowest batch mean: being preempted only ever adds to a batch. */
static double clock_read_cost;

static double calibrate_clock(void)
{
	enum { BATCHES = 7, PAIRS = 200000 };
	double lowest = 1e9;
	for (int b = 0; b < BATCHES; b++) {
		long long sum = 0;
		for (int i = 0; i < PAIRS; i++) {
			long long t0 = now_ns();
			sum += now_ns() - t0;
		}
		if ((double)sum / PAIRS < lowest)
			lowest = (double)sum / PAIRS;
	}
	return lowest;
}

/* ---- workloads ---- */

#define BATCH 32
#define IO_BYTES 512

static int zero_fd;

struct bench {
	const struct aio_lib *lib;
	io_context_t ctx;
	struct iocb iocbs[BATCH];
	struct iocb *list[BATCH];
	struct io_event events[BATCH];
	char buffers[BATCH][IO_BYTES];
};

static struct timespec zero_timeout;

static void submit(struct bench *b, long n)
{
	int r = b->lib->submit(b->ctx, n, b->list);
	if (r != n)
		die("io_submit", r);
}

/* Checks what a reaping call returned: `want` events, each a whole read
 * by one of our iocbs. */
static void check_reaped(const struct bench *b, int got, int want)
{
	if (got != want)
		die("io_getevents returned the wrong count", got);
	for (int i = 0; i < got; i++) {
		const struct io_event *e = &b->events[i];
		if (e->obj < b->iocbs || e->obj >= b->iocbs + BATCH)
			die("an event for an iocb we did not submit", (long)(e->obj - b->iocbs));
		if (e->res != IO_BYTES || e->res2 != 0)
			die("an event with the wrong result", (long)e->res);
	}
}

/* Each workload runs `iterations` times, returns how many ops it did and,
 * in *timed_ns, the time they took. */
static long qd1_wait(struct bench *b, long iterations, long long *timed_ns)
{
	long long t0 = now_ns();
	for (long i = 0; i < iterations; i++) {
		submit(b, 1);
		check_reaped(b, b->lib->getevents(b->ctx, 1, 1, b->events, NULL), 1);
	}
	*timed_ns = now_ns() - t0;
	return iterations;
}

static long qd1_poll(struct bench *b, long iterations, long long *timed_ns)
{
	long long t0 = now_ns();
	for (long i = 0; i < iterations; i++) {
		submit(b, 1);
		check_reaped(b, b->lib->getevents(b->ctx, 0, 1, b->events, &zero_timeout), 1);
	}
	*timed_ns = now_ns() - t0;
	return iterations;
}

/* In the *_ready and submit1 workloads only the named call is timed, less
 * the calibrated cost of reading the clock around it. */
static long reap_ready(struct bench *b, long iterations, long long *timed_ns, int ready)
{
	long long sum = 0;
	for (long i = 0; i < iterations; i++) {
		submit(b, ready);
		long long t0 = now_ns();
		int got = b->lib->getevents(b->ctx, ready, ready, b->events, NULL);
		sum += now_ns() - t0;
		check_reaped(b, got, ready);
	}
	*timed_ns = sum - (long long)(clock_read_cost * iterations);
	return iterations;
}

static long reap1_ready(struct bench *b, long iterations, long long *timed_ns)
{
	return reap_ready(b, iterations, timed_ns, 1);
}

static long reap32_ready(struct bench *b, long iterations, long long *timed_ns)
{
	return reap_ready(b, iterations, timed_ns, BATCH);
}

/* The floor under qd1: both libraries pass io_submit straight to the kernel. */
static long submit1(struct bench *b, long iterations, long long *timed_ns)
{
	long long sum = 0;
	for (long i = 0; i < iterations; i++) {
		long long t0 = now_ns();
		submit(b, 1);
		sum += now_ns() - t0;
		check_reaped(b, b->lib->getevents(b->ctx, 1, 1, b->events, NULL), 1);
	}
	*timed_ns = sum - (long long)(clock_read_cost * iterations);
	return iterations;
}

static long empty_poll(struct bench *b, long iterations, long long *timed_ns)
{
	long long t0 = now_ns();
	for (long i = 0; i < iterations; i++) {
		int got = b->lib->getevents(b->ctx, 0, BATCH, b->events, &zero_timeout);
		if (got != 0)
			die("a poll of an empty ring found events", got);
	}
	*timed_ns = now_ns() - t0;
	return iterations;
}

static long qd32_min1(struct bench *b, long iterations, long long *timed_ns)
{
	long long t0 = now_ns();
	for (long i = 0; i < iterations; i++) {
		submit(b, BATCH);
		for (int reaped = 0; reaped < BATCH;) {
			int got = b->lib->getevents(b->ctx, 1, BATCH, b->events, NULL);
			if (got < 1 || got > BATCH - reaped)
				die("io_getevents(min_nr=1)", got);
			check_reaped(b, got, got);
			reaped += got;
		}
	}
	*timed_ns = now_ns() - t0;
	return iterations * BATCH;
}

static long callbacks_run;

static void count_callback(io_context_t ctx, struct iocb *iocb, long res, long res2)
{
	(void)ctx, (void)iocb;
	if (res != IO_BYTES || res2 != 0)
		die("a callback with the wrong result", res);
	callbacks_run++;
}

static long queue_run(struct bench *b, long iterations, long long *timed_ns)
{
	for (int i = 0; i < BATCH; i++)
		io_set_callback(&b->iocbs[i], count_callback);
	long long t0 = now_ns();
	for (long i = 0; i < iterations; i++) {
		long before = callbacks_run;
		submit(b, BATCH);
		int r = b->lib->queue_run(b->ctx);
		if (r != 0 || callbacks_run - before != BATCH)
			die("io_queue_run", r ? r : callbacks_run - before);
	}
	*timed_ns = now_ns() - t0;
	return iterations * BATCH;
}

struct workload {
	const char *name;
	const char *op;
	long iterations; /* per run at --scale 1: about 0.1-0.2 s here */
	double target;   /* minimum median ratio system/ours; 0: none */
	long (*run)(struct bench *, long, long long *);
};

static const struct workload workloads[] = {
	{"qd1_wait", "I/O: submit 1 + getevents(1,1,NULL)", 200000, 1.5, qd1_wait},
	{"qd1_poll", "I/O: submit 1 + getevents(0,1,{0,0})", 200000, 0, qd1_poll},
	{"submit1", "io_submit of 1 (ns: the call only; cpu: the loop with its reaps)", 200000, 0, submit1},
	{"reap1_ready", "getevents(1,1,NULL) of 1 ready (ns: the call only; cpu: the loop with its submits)", 200000, 0, reap1_ready},
	{"reap32_ready", "getevents(32,32,NULL) of 32 ready (ns: the call only; cpu: the loop with its submits)", 10000, 5.0, reap32_ready},
	{"empty_poll", "getevents(0,32,{0,0}) on an empty ring", 10000000, 0.9, empty_poll},
	{"qd32_min1", "I/O: submit 32, getevents(1,32,NULL) until 32", 10000, 1.0, qd32_min1},
	{"queue_run", "I/O: submit 32 + io_queue_run (callbacks)", 10000, 0, queue_run},
};

struct measurement {
	double ns_per_op, cpu_ns_per_op;
	long ops, heap_calls;
};

static struct measurement measure(const struct workload *w, const struct aio_lib *lib, long iterations)
{
	static struct bench b;
	b.ctx = 0;
	b.lib = lib;
	int r = lib->setup(4 * BATCH, &b.ctx);
	if (r != 0)
		die("io_setup", r);
	for (int i = 0; i < BATCH; i++) {
		io_prep_pread(&b.iocbs[i], zero_fd, b.buffers[i], IO_BYTES, 0);
		b.list[i] = &b.iocbs[i];
	}
	long long timed_ns;
	long heap_before = atomic_load(&heap_calls);
	atomic_store(&counting_heap_calls, 1);
	long long cpu0 = thread_cpu_ns();
	long ops = w->run(&b, iterations, &timed_ns);
	long long cpu = thread_cpu_ns() - cpu0;
	atomic_store(&counting_heap_calls, 0);
	r = lib->destroy(b.ctx);
	if (r != 0)
		die("io_destroy", r);
	return (struct measurement){
		.ns_per_op = (double)timed_ns / ops,
		.cpu_ns_per_op = (double)cpu / ops,
		.ops = ops,
		.heap_calls = atomic_load(&heap_calls) - heap_before,
	};
}

/* Proves the counter sees allocations made inside a shared library. */
static void check_heap_counter(void)
{
	char *(*dup)(const char *) = (char *(*)(const char *))dlsym(RTLD_DEFAULT, "strdup");
	long before = atomic_load(&heap_calls);
	atomic_store(&counting_heap_calls, 1);
	free(dup("x"));
	atomic_store(&counting_heap_calls, 0);
	if (atomic_load(&heap_calls) - before != 2)
		die("the heap counter does not see libc's strdup+free", atomic_load(&heap_calls) - before);
}

#define MAX_ROUNDS 101

/* Prints the row of w; fills med with the median ns/op of each side. */
static void report(const struct workload *w, double m[2][2][MAX_ROUNDS], int rounds, double med[2])
{
	double lo[2], hi[2], cpu[2];
	for (int s = 0; s < 2; s++) {
		med[s] = median(m[s][0], rounds); /* sorts: [0] is min, [rounds-1] max */
		lo[s] = m[s][0][0];
		hi[s] = m[s][0][rounds - 1];
		cpu[s] = median(m[s][1], rounds);
	}
	double ratio = med[0] / med[1];
	char target[32] = "-";
	if (w->target > 0)
		snprintf(target, sizeof(target), ">= %.2fx %s", w->target, ratio >= w->target ? "PASS" : "MISS");
	printf("| %-12s | %8.1f [%.1f-%.1f] | %8.1f [%.1f-%.1f] | %6.2fx | %7.1f | %7.1f | %6.2fx | %-13s | %s |\n",
	       w->name, med[0], lo[0], hi[0], med[1], lo[1], hi[1], ratio, cpu[0], cpu[1], cpu[0] / cpu[1], target, w->op);
}

int main(int argc, char **argv)
{
	int rounds = 7;
	double scale = 1;
	const char *only = NULL, *only_workload = NULL;
	int a = 1;
	for (; a + 1 < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
		if (!strcmp(argv[a], "--rounds"))
			rounds = atoi(argv[a + 1]);
		else if (!strcmp(argv[a], "--scale"))
			scale = atof(argv[a + 1]);
		else if (!strcmp(argv[a], "--only"))
			only = argv[a + 1];
		else if (!strcmp(argv[a], "--workload"))
			only_workload = argv[a + 1];
		else
			break;
	}
	int known_workload = !only_workload;
	for (size_t wi = 0; wi < sizeof(workloads) / sizeof(workloads[0]); wi++)
		known_workload |= only_workload && !strcmp(only_workload, workloads[wi].name);
	int known_only = !only || !strcmp(only, "system") || !strcmp(only, "ours");
	if (argc - a != 2 || rounds < 1 || rounds > MAX_ROUNDS || scale <= 0 || !known_workload || !known_only) {
		fprintf(stderr, "usage: %s [--rounds 1-%d] [--scale F] [--only system|ours] [--workload NAME] SYSTEM_SO OUR_SO\n",
			argv[0], MAX_ROUNDS);
		return 2;
	}
	struct aio_lib libs[2] = {load_lib("system", argv[a]), load_lib("ours", argv[a + 1])};
	zero_fd = open("/dev/zero", O_RDONLY);
	if (zero_fd < 0)
		die("open /dev/zero", errno);
	check_heap_counter();
	clock_read_cost = calibrate_clock();
	printf("clock_gettime(CLOCK_MONOTONIC) pair: %.1f ns (subtracted from each timed call of submit1 and *_ready)\n\n",
	       clock_read_cost);
	if (!only) {
		printf("| workload | system ns/op [min-max] | ours ns/op [min-max] | system/ours | cpu ns/op system | cpu ns/op ours | cpu system/ours | target (on ns/op) | one op |\n");
		printf("|---|---|---|---|---|---|---|---|---|\n");
	}
	fflush(stdout);
	long heap[2] = {0, 0}, ops[2] = {0, 0}, warmup_heap[2] = {0, 0};
	double qd1_wait_ns[2] = {0, 0}, reap1_ready_ns[2] = {0, 0};
	for (size_t wi = 0; wi < sizeof(workloads) / sizeof(workloads[0]); wi++) {
		const struct workload *w = &workloads[wi];
		if (only_workload && strcmp(only_workload, w->name))
			continue;
		long iterations = (long)(w->iterations * scale);
		if (iterations < 1)
			iterations = 1;
		static double m[2][2][MAX_ROUNDS];
		for (int s = 0; s < 2 && !only; s++) /* warm-up: code, caches, ring pages */
			warmup_heap[s] += measure(w, &libs[s], iterations / 10 + 1).heap_calls;
		for (int r = 0; r < rounds; r++)
			for (int s = 0; s < 2; s++) {
				if (only && strcmp(only, libs[s].label))
					continue;
				struct measurement x = measure(w, &libs[s], iterations);
				m[s][0][r] = x.ns_per_op;
				m[s][1][r] = x.cpu_ns_per_op;
				heap[s] += x.heap_calls;
				ops[s] += x.ops;
			}
		if (!only) {
			double med[2];
			report(w, m, rounds, med);
			if (!strcmp(w->name, "qd1_wait"))
				memcpy(qd1_wait_ns, med, sizeof(med));
			if (!strcmp(w->name, "reap1_ready"))
				memcpy(reap1_ready_ns, med, sizeof(med));
		}
		fflush(stdout);
	}
	/* What qd1 costs the system library besides its reaping syscall (the
	 * submit, the loop) ours pays too: even a free reap cannot beat this. */
	if (qd1_wait_ns[0] > 0 && reap1_ready_ns[0] > 0 && qd1_wait_ns[0] > reap1_ready_ns[0])
		printf("\nqd1_wait bound: a reap costing nothing would reach qd1_wait(system) / (qd1_wait(system) - "
		       "reap1_ready(system)) = %.1f / %.1f = %.2fx; ours reached %.2fx\n",
		       qd1_wait_ns[0], qd1_wait_ns[0] - reap1_ready_ns[0], qd1_wait_ns[0] / (qd1_wait_ns[0] - reap1_ready_ns[0]),
		       qd1_wait_ns[0] / qd1_wait_ns[1]);
	printf("\nheap calls (malloc/calloc/realloc/free/memalign) inside the timed loops:\n");
	for (int s = 0; s < 2; s++)
		if (!only || !strcmp(only, libs[s].label))
			printf("  %s: %ld over %ld ops (warm-up runs, which include each thread's first call: %ld)\n",
			       libs[s].label, heap[s], ops[s], warmup_heap[s]);
	return 0;
}
