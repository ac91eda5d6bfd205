/* Host program for the uprobe tests: waits for a line on stdin, then calls
 * bpfkit_uprobe_target() N times (argv[1], default 5) and prints the sum. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int bpfkit_uprobe_target(int x)
{
	__asm__ volatile("" ::: "memory");
	return x * 2 + 1;
}

int main(int argc, char **argv)
{
	char line[16];
	int n = argc > 1 ? atoi(argv[1]) : 5;
	int sum = 0;

	if (!fgets(line, sizeof line, stdin))
		return 1;
	for (int i = 0; i < n; i++)
		sum += bpfkit_uprobe_target(i);
	printf("%d\n", sum);
	return 0;
}
