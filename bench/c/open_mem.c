/* Baseline for bench/open-object.ts: libbpf's bpf_object__open_mem() (parse only, no load).
 * Usage: open_mem WARMUP ITERS FILE... Each iteration opens (and closes) every FILE from
 * memory; after WARMUP untimed iterations it prints one line per timed iteration: nanoseconds. */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: open_mem WARMUP ITERS FILE...\n");
		return 2;
	}
	int warmup = atoi(argv[1]), iters = atoi(argv[2]);
	int nfiles = argc - 3;
	char **bufs = calloc(nfiles, sizeof(*bufs));
	long *sizes = calloc(nfiles, sizeof(*sizes));
	for (int f = 0; f < nfiles; f++) {
		FILE *fp = fopen(argv[3 + f], "rb");
		if (!fp) {
			perror(argv[3 + f]);
			return 2;
		}
		fseek(fp, 0, SEEK_END);
		sizes[f] = ftell(fp);
		fseek(fp, 0, SEEK_SET);
		bufs[f] = malloc(sizes[f]);
		if (!bufs[f] || fread(bufs[f], 1, sizes[f], fp) != (size_t)sizes[f]) {
			perror(argv[3 + f]);
			return 2;
		}
		fclose(fp);
	}
	libbpf_set_print(quiet);
	for (int i = 0; i < warmup + iters; i++) {
		long long t0 = now_ns();
		for (int f = 0; f < nfiles; f++) {
			struct bpf_object *obj = bpf_object__open_mem(bufs[f], sizes[f], NULL);
			if (!obj) {
				fprintf(stderr, "bpf_object__open_mem %s failed\n", argv[3 + f]);
				return 1;
			}
			bpf_object__close(obj);
		}
		long long t1 = now_ns();
		if (i >= warmup)
			printf("%lld\n", t1 - t0);
	}
	return 0;
}
