/* Ring buffer consumer baseline for bench/ringbuf.ts: raw bpf(2) + mmap, the loop libbpf's
 * ring_buffer__consume runs (records handed to a callback by pointer, no copy). Line protocol
 * on stdin/stdout: "consume" → "<records> <nanoseconds>" for draining what is there now. */
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BUSY (1U << 31)
#define DISCARD (1U << 30)

static uint64_t sink;

static __attribute__((noinline)) void on_record(const uint8_t *data, uint32_t len)
{
	uint64_t v;
	memcpy(&v, data, sizeof v);
	sink += v + len;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: ringbuf_consume PINNED_MAP SIZE\n");
		return 2;
	}
	union bpf_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.pathname = (uint64_t)(uintptr_t)argv[1];
	int fd = syscall(__NR_bpf, BPF_OBJ_GET, &attr, sizeof attr);
	if (fd < 0) {
		perror("BPF_OBJ_GET");
		return 1;
	}
	size_t size = strtoul(argv[2], NULL, 0), page = sysconf(_SC_PAGESIZE);
	uint64_t *cons = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	uint8_t *prod_page = mmap(NULL, page + 2 * size, PROT_READ, MAP_SHARED, fd, page);
	if (cons == MAP_FAILED || prod_page == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	uint64_t *prod = (uint64_t *)prod_page;
	uint8_t *data = prod_page + page;
	char line[64];
	while (fgets(line, sizeof line, stdin)) {
		struct timespec t0, t1;
		long n = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		uint64_t c = __atomic_load_n(cons, __ATOMIC_ACQUIRE);
		uint64_t p = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
		while (c < p) {
			uint32_t hdr = __atomic_load_n((uint32_t *)(data + (c & (size - 1))), __ATOMIC_ACQUIRE);
			if (hdr & BUSY)
				break;
			uint32_t len = hdr & ~(BUSY | DISCARD);
			const uint8_t *rec = data + (c & (size - 1)) + 8;
			c += (len + 8 + 7) & ~7ULL;
			if (!(hdr & DISCARD)) {
				on_record(rec, len);
				n++;
			}
			__atomic_store_n(cons, c, __ATOMIC_RELEASE);
			if (c >= p)
				p = __atomic_load_n(prod, __ATOMIC_ACQUIRE);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		printf("%ld %lld\n", n, (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
		fflush(stdout);
	}
	return (int)(sink & 0);
}
