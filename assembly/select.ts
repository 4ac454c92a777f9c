// Latent selection shared by every build: candidates are u64 keys that order by
// (value descending, latent index ascending), so "top k with ties broken by the
// lower index" is a plain descending order on keys.

// The state of the row being encoded (one row at a time per instance).
export let selKeys: usize = 0;
export let selCount: i32 = 0;
export let selCap: i32 = 0;
export let selK: i32 = 0;        // keep at most k (TopK) or everything (cap)
// Candidates must exceed this value; starts at 0 (ReLU after TopK drops the
// rest anyway) and rises to the k-th best once the buffer has been compacted.
export let selThr: f32 = 0;

// floor: the value candidates must exceed before the buffer fills (0: ReLU; -inf: any, for screens).
export function selectBegin(keys: usize, cap: i32, k: i32, floor: f32 = 0): void {
  selKeys = keys;
  selCount = 0;
  selCap = cap;
  selK = k;
  selThr = floor;
}

@inline export function keyOf(value: f32, index: i32): u64 {
  const bits = reinterpret<u32>(value);
  const ordered = (bits & 0x80000000) ? ~bits : (bits | 0x80000000);
  return (<u64>ordered << 32) | <u64>(~<u32>index);
}
@inline export function keyValue(key: u64): f32 {
  const ordered = <u32>(key >> 32);
  const bits = (ordered & 0x80000000) ? (ordered ^ 0x80000000) : ~ordered;
  return reinterpret<f32>(bits);
}
@inline export function keyIndex(key: u64): i32 {
  return <i32>(~<u32>key);
}
@inline function at(i: i32): usize {
  return selKeys + (<usize>i << 3);
}

export function selectPush(index: i32, value: f32): void {
  if (selCount == selCap) compact();
  store<u64>(at(selCount), keyOf(value, index));
  selCount++;
}

// Quickselect the k largest keys to the front, drop the rest, raise the bar.
function compact(): void {
  const k = selK;
  partitionTop(k);
  selCount = k;
  let kth: u64 = load<u64>(at(0));
  for (let i = 1; i < k; i++) {
    const v = load<u64>(at(i));
    if (v < kth) kth = v;
  }
  const thr = keyValue(kth);
  if (thr > selThr) selThr = thr;
}

// Rearranges keys[0..selCount) so that keys[0..k) are the k largest.
function partitionTop(k: i32): void {
  let lo = 0;
  let hi = selCount - 1;
  // Median-of-3 can be driven quadratic by adversarial orders: after ~2 log2(n)
  // rounds fall back to a full heapsort, O(n log n) whatever the input.
  let rounds = 2 * (32 - clz(selCount)) + 8;
  while (hi > lo) {
    if (--rounds < 0) {
      sortDescending(selCount);
      return;
    }
    const mid = lo + ((hi - lo) >> 1);
    const a = load<u64>(at(lo)), b = load<u64>(at(mid)), c = load<u64>(at(hi));
    const pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    let i = lo, j = hi;
    while (i <= j) {
      while (load<u64>(at(i)) > pivot) i++;
      while (load<u64>(at(j)) < pivot) j--;
      if (i <= j) {
        const t = load<u64>(at(i));
        store<u64>(at(i), load<u64>(at(j)));
        store<u64>(at(j), t);
        i++;
        j--;
      }
    }
    if (k - 1 <= j) hi = j;
    else if (k - 1 >= i) lo = i;
    else break;
  }
}

// Finishes the row: keeps the k best and sorts them descending. Returns the count.
export function selectFinish(): i32 {
  if (selCount > selK) {
    partitionTop(selK);
    selCount = selK;
  }
  sortDescending(selCount);
  return selCount;
}

// Rescoring (int8 TopK): keeps the best selK candidates, unsorted, and returns their count.
export function selectTrim(): i32 {
  if (selCount > selK) {
    partitionTop(selK);
    selCount = selK;
  }
  return selCount;
}
// The caller has rewritten the first `count` keys with new values: select the best k of them.
export function selectRestart(count: i32, k: i32): void {
  selCount = count;
  selK = k;
}

// Heapsort with a min-heap: each extracted minimum goes to the back.
function sortDescending(n: i32): void {
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(i, n);
  for (let end = n - 1; end > 0; end--) {
    const t = load<u64>(at(0));
    store<u64>(at(0), load<u64>(at(end)));
    store<u64>(at(end), t);
    siftDown(0, end);
  }
}
function siftDown(root: i32, n: i32): void {
  let i = root;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    let c = l;
    if (l + 1 < n && load<u64>(at(l + 1)) < load<u64>(at(l))) c = l + 1;
    const vi = load<u64>(at(i)), vc = load<u64>(at(c));
    if (vc >= vi) return;
    store<u64>(at(i), vc);
    store<u64>(at(c), vi);
    i = c;
  }
}

// Writes the finished selection (count keys) as indices/values at position pos; returns the next position.
export function selectEmit(count: i32, idx: usize, val: usize, pos: i32): i32 {
  for (let e = 0; e < count; e++) {
    const key = load<u64>(at(e));
    store<u32>(idx + (<usize>pos << 2), keyIndex(key));
    store<f32>(val + (<usize>pos << 2), keyValue(key));
    pos++;
  }
  return pos;
}
