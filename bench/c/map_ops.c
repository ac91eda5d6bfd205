/*
 * Baseline for bench/map-ops.ts: the same bpf(2) map operations from C, raw syscalls, no libbpf.
 *
 * Runs as a small server so that the TypeScript side can interleave C and TS measurements chunk
 * by chunk (both then see the same machine load). One command per stdin line, one reply line:
 *   open ID BATCH       open the map with id ID (BPF_MAP_GET_FD_BY_ID; the TS side created it, so
 *                       both sides work on the very same u32 → u64 hash map), batch size BATCH → "ok"
 *   init BATCH          or: create a fresh BPF_MAP_TYPE_HASH (u32 → u64) of its own          → "ok"
 *   upd START N         N x BPF_MAP_UPDATE_ELEM, keys (START + i) % 10000              → ns/op
 *   lkp START N         N x BPF_MAP_LOOKUP_ELEM, same keys                              → ns/op
 *   bupd K              K x BPF_MAP_UPDATE_BATCH of BATCH entries         → median ns/entry
 *   blkp K              K x BPF_MAP_LOOKUP_BATCH of up to BATCH entries   → median ns/entry
 *   bdel K              K x (BPF_MAP_UPDATE_BATCH untimed, then BPF_MAP_DELETE_BATCH of BATCH
 *                       keys timed)                                       → median ns/entry
 *   quit
 * Replies with numbers give two: wall time (CLOCK_MONOTONIC) and CPU time of this process
 * (CLOCK_PROCESS_CPUTIME_ID, which leaves out time spent preempted), both taken inside this process
 * around the syscalls only; bursts report the median of each. Result buffers
 * are allocated once per map and reused (warm), as a C program would.
 */
#define _GNU_SOURCE
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

/* CPU time of this process (excludes time spent preempted by other load) */
static double cpu_ns(void) {
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
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

static int open_map(unsigned id) {
	union bpf_attr a;
	memset(&a, 0, sizeof a);
	a.map_id = id;
	return (int)sys_bpf(BPF_MAP_GET_FD_BY_ID, &a, sizeof a);
}

static int cmp_double(const void *x, const void *y) {
	double a = *(const double *)x, b = *(const double *)y;
	return a < b ? -1 : a > b;
}

/* median of v[0..n) (sorts v) */
static double median(double *v, int n) {
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long batch_write(int cmd, int fd, void *keys, void *vals, int count, int *done) {
	union bpf_attr b;
	memset(&b, 0, sizeof b);
	b.batch.map_fd = fd;
	b.batch.keys = (uint64_t)(uintptr_t)keys;
	b.batch.values = (uint64_t)(uintptr_t)vals;
	b.batch.count = count;
	long r = sys_bpf(cmd, &b, sizeof b.batch);
	*done = (int)b.batch.count;
	return r;
}

int main(void) {
	char line[256];
	int fd = -1, batch = 0;
	uint32_t *keys = NULL, *outk = NULL;
	uint64_t *vals = NULL, *outv = NULL;
	uint32_t key;
	uint64_t value = 0, sum = 0;
	union bpf_attr a;

	while (fgets(line, sizeof line, stdin)) {
		unsigned start = 0, n = 0, id = 0;
		int opened = 0;
		if (sscanf(line, "open %u %d", &id, &batch) == 2) {
			if (fd >= 0) close(fd);
			fd = open_map(id);
			if (fd < 0) {
				printf("error BPF_MAP_GET_FD_BY_ID %u: %s\n", id, strerror(errno));
				fflush(stdout);
				continue;
			}
			opened = 1;
		} else if (sscanf(line, "init %d", &batch) == 1) {
			if (fd >= 0) close(fd);
			fd = create_map((unsigned)(batch > 10000 ? batch : 10000) * 2);
			if (fd < 0) {
				printf("error BPF_MAP_CREATE: %s\n", strerror(errno));
				fflush(stdout);
				continue;
			}
			opened = 1;
		}
		if (opened) {
			free(keys); free(outk); free(vals); free(outv);
			keys = calloc(batch, 4);
			outk = calloc(batch, 4);
			vals = calloc(batch, 8);
			outv = calloc(batch, 8);
			for (int i = 0; i < batch; i++) {
				keys[i] = (uint32_t)i;
				vals[i] = (uint64_t)i * 3;
			}
			memset(&a, 0, sizeof a);
			a.map_fd = fd;
			a.key = (uint64_t)(uintptr_t)&key;
			a.value = (uint64_t)(uintptr_t)&value;
			printf("ok\n");
		} else if (sscanf(line, "upd %u %u", &start, &n) == 2 && fd >= 0) {
			double c0 = cpu_ns(), t0 = now_ns();
			for (unsigned i = 0; i < n; i++) {
				key = (start + i) % 10000;
				value = start + i;
				a.flags = BPF_ANY;
				if (sys_bpf(BPF_MAP_UPDATE_ELEM, &a, 32) < 0) break;
			}
			double t1 = now_ns(), c1 = cpu_ns();
			printf("%.3f %.3f\n", (t1 - t0) / n, (c1 - c0) / n);
		} else if (sscanf(line, "lkp %u %u", &start, &n) == 2 && fd >= 0) {
			double c0 = cpu_ns(), t0 = now_ns();
			for (unsigned i = 0; i < n; i++) {
				key = (start + i) % 10000;
				a.flags = 0;
				if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a, 32) < 0) break;
				sum += value;
			}
			double t1 = now_ns(), c1 = cpu_ns();
			printf("%.3f %.3f\n", (t1 - t0) / n, (c1 - c0) / n);
		} else if (sscanf(line, "bupd %u", &n) == 1 && fd >= 0 && n > 0 && n <= 64) {
			double t[64], u[64];
			int err = 0, done;
			for (unsigned k = 0; k < n && !err; k++) {
				double c0 = cpu_ns(), t0 = now_ns();
				long r = batch_write(BPF_MAP_UPDATE_BATCH, fd, keys, vals, batch, &done);
				double t1 = now_ns(), c1 = cpu_ns();
				t[k] = (t1 - t0) / batch;
				u[k] = (c1 - c0) / batch;
				if (r < 0) err = errno;
			}
			if (err) printf("error update batch: %s\n", strerror(err));
			else printf("%.3f %.3f\n", median(t, (int)n), median(u, (int)n));
		} else if (sscanf(line, "bdel %u", &n) == 1 && fd >= 0 && n > 0 && n <= 64) {
			double t[64], u[64];
			int err = 0, done;
			for (unsigned k = 0; k < n && !err; k++) {
				if (batch_write(BPF_MAP_UPDATE_BATCH, fd, keys, vals, batch, &done) < 0) {
					err = errno;
					break;
				}
				double c0 = cpu_ns(), t0 = now_ns();
				long r = batch_write(BPF_MAP_DELETE_BATCH, fd, keys, NULL, batch, &done);
				double t1 = now_ns(), c1 = cpu_ns();
				t[k] = (t1 - t0) / batch;
				u[k] = (c1 - c0) / batch;
				if (r < 0) err = errno;
			}
			if (err) printf("error delete batch: %s\n", strerror(err));
			else printf("%.3f %.3f\n", median(t, (int)n), median(u, (int)n));
		} else if (sscanf(line, "blkp %u", &n) == 1 && fd >= 0 && n > 0 && n <= 64) {
			double t[64], u[64];
			int err = 0;
			for (unsigned k = 0; k < n && !err; k++) {
				union bpf_attr b;
				uint32_t out_batch = 0;
				memset(&b, 0, sizeof b);
				b.batch.map_fd = fd;
				b.batch.out_batch = (uint64_t)(uintptr_t)&out_batch;
				b.batch.keys = (uint64_t)(uintptr_t)outk;
				b.batch.values = (uint64_t)(uintptr_t)outv;
				b.batch.count = batch;
				double c0 = cpu_ns(), t0 = now_ns();
				long r = sys_bpf(BPF_MAP_LOOKUP_BATCH, &b, sizeof b.batch);
				double t1 = now_ns(), c1 = cpu_ns();
				if (r < 0 && errno != ENOENT) err = errno;
				t[k] = (t1 - t0) / (b.batch.count ? b.batch.count : 1);
				u[k] = (c1 - c0) / (b.batch.count ? b.batch.count : 1);
			}
			if (err) printf("error lookup batch: %s\n", strerror(err));
			else printf("%.3f %.3f\n", median(t, (int)n), median(u, (int)n));
		} else if (strncmp(line, "quit", 4) == 0) {
			break;
		} else {
			printf("error bad command\n");
		}
		fflush(stdout);
	}
	if (sum == 42) fprintf(stderr, "unlikely\n");
	if (fd >= 0) close(fd);
	return 0;
}
