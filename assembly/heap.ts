// A bump allocator straight over memory.grow: blocks of any size up to the
// 4 GiB address space (the runtime's own allocator stops at 1 GiB), 16-byte
// aligned. free() returns space only when it is the most recent block, which is
// how the host uses it (model and workspace first, then one reusable io block).
let top: usize = 0;
let last: usize = 0;

// Returns 0 when memory cannot grow that far.
export function heapAlloc(bytes: usize): usize {
  if (top == 0) top = (__heap_base + 15) & ~(<usize>15);
  const ptr = top;
  const end = <u64>ptr + <u64>bytes;
  if (end > <u64>0xFFFFFFF0) return 0;
  const needPages = <i32>((end + 0xFFFF) >> 16);
  const have = memory.size();
  if (needPages > have && memory.grow(needPages - have) < 0) return 0;
  top = <usize>((end + 15) & ~(<u64>15));
  last = ptr;
  return ptr;
}

export function heapFree(ptr: usize): void {
  if (ptr != 0 && ptr == last) {
    top = ptr;
    last = 0;
  }
}
