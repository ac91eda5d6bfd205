/*
 * Baseline for bench/map-ops.ts: the same bpf(2) map operations from C, raw syscalls, no libbpf.
 * Usage: map_ops ROUNDS SINGLE_OPS BATCH_N
 * Prints one JSON object: per-round ns per op for single update/lookup (median of 1000-op
 * chunks) and batch update/lookup.
 */
#define _GNU_SOURCE
/* batch calls per round, each timed separately (each side does the same) */
#define BATCH_REPEAT 5
/* single ops are timed in chunks of this many; a round reports the median chunk */
#define CHUNK 1000
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long sys_bpf(int cmd, union bpf_attr *attr, unsigned size) {
	return syscall(__NR_bpf, cmd, attr, size);
}

static double now_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* median of v[0..n) (sorts v) */
static double median(double *v, int n) {
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int create_map(unsigned max_entries) {
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_type = BPF_MAP_TYPE_HASH;
	a.key_size = 4;
	a.value_size = 8;
	a.max_entries = max_entries;
	strcpy(a.map_name, "bench_c");
	return (int)sys_bpf(BPF_MAP_CREATE, &a, sizeof a);
}

static void print_series(const char *name, double *v, int n, int last) {
	printf("\"%s\":[", name);
	for (int i = 0; i < n; i++) printf("%s%.3f", i ? "," : "", v[i]);
	printf("]%s", last ? "" : ",");
}

int main(int argc, char **argv) {
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	int ops = argc > 2 ? atoi(argv[2]) : 100000;
	int batch = argc > 3 ? atoi(argv[3]) : 10000;
	unsigned max_entries = (unsigned)(batch > 10000 ? batch : 10000) * 2;
	int fd = create_map(max_entries);
	if (fd < 0) {
		fprintf(stderr, "map_ops: BPF_MAP_CREATE: %s\n", strerror(errno));
		return 1;
	}
	double *upd = calloc(rounds, sizeof(double)), *lkp = calloc(rounds, sizeof(double));
	double *bupd = calloc(rounds * BATCH_REPEAT, sizeof(double)), *blkp = calloc(rounds * BATCH_REPEAT, sizeof(double));
	uint32_t *keys = calloc(batch, 4), *outk = calloc(batch, 4);
	uint64_t *vals = calloc(batch, 8), *outv = calloc(batch, 8);
	for (int i = 0; i < batch; i++) {
		keys[i] = (uint32_t)i;
		vals[i] = (uint64_t)i * 3;
	}
	uint32_t key;
	uint64_t value = 0;
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_fd = fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)&value;
	int chunks = ops / CHUNK;
	double *cu = calloc(chunks, sizeof(double)), *cl = calloc(chunks, sizeof(double));
	for (int r = 0; r < rounds; r++) {
		uint64_t sum = 0;
		for (int c = 0; c < chunks; c++) {
			double t0 = now_ns();
			for (int j = 0; j < CHUNK; j++) {
				int i = c * CHUNK + j;
				key = (uint32_t)(i % 10000);
				value = (uint64_t)i;
				a.flags = BPF_ANY;
				if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a, 32) < 0) { perror("update"); return 1; }
			}
			cu[c] = (now_ns() - t0) / CHUNK;
		}
		for (int c = 0; c < chunks; c++) {
			double t1 = now_ns();
			for (int j = 0; j < CHUNK; j++) {
				int i = c * CHUNK + j;
				key = (uint32_t)(i % 10000);
				a.flags = 0;
				if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, 32) < 0) { perror("lookup"); return 1; }
				sum += value;
			}
			cl[c] = (now_ns() - t1) / CHUNK;
		}
		upd[r] = median(cu, chunks);
		lkp[r] = median(cl, chunks);
		if (sum == 42) fprintf(stderr, "unlikely\n");

		union bpf_attr b;
		memset(&b, 0, sizeof b);
		b.batch.map_fd = fd;
		b.batch.keys = (uint64_t)(uintptr_t)keys;
		b.batch.values = (uint64_t)(uintptr_t)vals;
		b.batch.count = batch;
		for (int k = 0; k < BATCH_REPEAT; k++) {
			b.batch.count = batch;
			double t3 = now_ns();
			if (sys_bpf(BPF_MAP_UPDATE_BATCH, &b, sizeof b.batch) < 0) { perror("update batch"); return 1; }
			bupd[r * BATCH_REPEAT + k] = (now_ns() - t3) / batch;
		}

		uint32_t out_batch = 0;
		memset(&b, 0, sizeof b);
		b.batch.map_fd = fd;
		b.batch.out_batch = (uint64_t)(uintptr_t)&out_batch;
		b.batch.keys = (uint64_t)(uintptr_t)outk;
		b.batch.values = (uint64_t)(uintptr_t)outv;
		b.batch.count = batch;
		for (int k = 0; k < BATCH_REPEAT; k++) {
			b.batch.count = batch;
			b.batch.in_batch = 0;
			double t5 = now_ns();
			long rr = sys_bpf(BPF_MAP_LOOKUP_BATCH, &b, sizeof b.batch);
			double t6 = now_ns();
			if (rr < 0 && errno != ENOENT) { perror("lookup batch"); return 1; }
			blkp[r * BATCH_REPEAT + k] = (t6 - t5) / (b.batch.count ? b.batch.count : 1);
		}
	}
	printf("{");
	print_series("update", upd, rounds, 0);
	print_series("lookup", lkp, rounds, 0);
	print_series("updateBatch", bupd, rounds * BATCH_REPEAT, 0);
	print_series("lookupBatch", blkp, rounds * BATCH_REPEAT, 1);
	printf("}\n");
	close(fd);
	return 0;
}
