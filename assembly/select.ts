// Latent selection shared by every build: candidates are u64 keys that order by
// (value descending, latent index ascending), so "top k with ties broken by the
// lower index" is a plain descending order on keys.

// The selection of the row being encoded: a workspace slot (workspace.ts), passed explicitly.
@unmanaged export class Selection {
  keys: usize;   // u64[cap] candidates
  count: i32;
  cap: i32;
  k: i32;        // keep at most k (TopK) or everything (cap)
  // Candidates must exceed this value; starts at the floor (0: ReLU after TopK drops the
  // rest anyway) and rises to the k-th best once the buffer has been compacted.
  thr: f32;
}

// floor: the value candidates must exceed before the buffer fills (0: ReLU; -inf: any, for screens).
export function selectBegin(s: Selection, keys: usize, cap: i32, k: i32, floor: f32 = 0): void {
  if (!ASC_NO_ASSERT) assert(keys != 0 && (keys & 7) == 0, "selection keys must be 8-byte aligned");
  if (!ASC_NO_ASSERT) assert(k > 0 && k <= cap, "selection needs 0 < k <= cap");
  s.keys = keys;
  s.count = 0;
  s.cap = cap;
  s.k = k;
  s.thr = floor;
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
@inline export function keyAt(s: Selection, i: i32): usize {
  return s.keys + (<usize>i << 3);
}

export function selectPush(s: Selection, index: i32, value: f32): void {
  if (s.count == s.cap) compact(s);
  store<u64>(keyAt(s, s.count), keyOf(value, index));
  s.count++;
}

// Quickselect the k largest keys to the front, drop the rest, raise the bar.
function compact(s: Selection): void {
  const thr = selectKthValue(s, s.count, s.k);
  s.count = s.k;
  if (thr > s.thr) s.thr = thr;
}

// The k-th largest value among the first n keys (0 < k <= n); reorders them, keeps them all.
export function selectKthValue(s: Selection, n: i32, k: i32): f32 {
  if (!ASC_NO_ASSERT) assert(k > 0 && k <= n && n <= s.cap, "k-th value out of range");
  s.count = n;
  partitionTop(s, k);
  const keys = s.keys;
  let kth: u64 = load<u64>(at(keys, 0));
  for (let i = 1; i < k; i++) {
    const v = load<u64>(at(keys, i));
    if (v < kth) kth = v;
  }
  return keyValue(kth);
}

// Key i of the buffer at keys (a local, not s.keys: the compiler cannot keep a field in a
// register across the stores).
@inline function at(keys: usize, i: i32): usize {
  return keys + (<usize>i << 3);
}

// Rearranges keys[0..count) so that keys[0..k) are the k largest (keys are distinct: the index is
// part of them). Quickselect with a branchless Lomuto partition: every key is swapped and the
// boundary advances by the comparison, so random keys cost no branch mispredictions.
function partitionTop(s: Selection, k: i32): void {
  const n = s.count, keys = s.keys;
  let lo = 0;
  let hi = n - 1;
  // Median-of-3 can be driven quadratic by adversarial orders: after ~2 log2(n)
  // rounds fall back to a full heapsort, O(n log n) whatever the input.
  let rounds = 2 * (32 - clz(n)) + 8;
  while (hi > lo) {
    if (--rounds < 0) {
      sortDescending(s, n);
      return;
    }
    const mid = lo + ((hi - lo) >> 1);
    const a = load<u64>(at(keys, lo)), b = load<u64>(at(keys, mid)), c = load<u64>(at(keys, hi));
    const pivot = a < b ? (b < c ? b : (a < c ? c : a)) : (a < c ? a : (b < c ? c : b));
    // The pivot to the end, then keys[lo..j) > pivot >= keys[j..i) as i runs.
    const pi = pivot == a ? lo : pivot == b ? mid : hi;
    store<u64>(at(keys, pi), c);
    store<u64>(at(keys, hi), pivot);
    let j = lo;
    for (let i = lo; i < hi; i++) {
      const v = load<u64>(at(keys, i));
      store<u64>(at(keys, i), load<u64>(at(keys, j)));
      store<u64>(at(keys, j), v);
      j += <i32>(v > pivot);
    }
    store<u64>(at(keys, hi), load<u64>(at(keys, j)));
    store<u64>(at(keys, j), pivot);
    // keys[lo..j) > pivot = keys[j] > keys(j..hi].
    if (j == k - 1 || j == k) break;
    if (j > k) hi = j - 1;
    else lo = j + 1;
  }
}

// Finishes the row: keeps the k best and sorts them descending. Returns the count.
export function selectFinish(s: Selection): i32 {
  selectTrim(s);
  sortDescending(s, s.count);
  return s.count;
}

// Rescoring (int8 TopK): keeps the best k candidates, unsorted, and returns their count.
export function selectTrim(s: Selection): i32 {
  if (s.count > s.k) {
    partitionTop(s, s.k);
    s.count = s.k;
  }
  return s.count;
}
// The caller has rewritten the first `count` keys with new values: select the best k of them.
export function selectRestart(s: Selection, count: i32, k: i32): void {
  if (!ASC_NO_ASSERT) assert(count <= s.cap && k > 0, "selection restart out of range");
  s.count = count;
  s.k = k;
}

// Insertion sort for the short buffers every TopK row ends with (k keys), else heapsort with a
// min-heap (each extracted minimum to the back): O(n log n) whatever the order.
const INSERTION_MAX: i32 = 64;
function sortDescending(s: Selection, n: i32): void {
  const keys = s.keys;
  if (n <= INSERTION_MAX) {
    for (let i = 1; i < n; i++) {
      const v = load<u64>(at(keys, i));
      let j = i;
      for (; j > 0; j--) {
        const u = load<u64>(at(keys, j - 1));
        if (u >= v) break;
        store<u64>(at(keys, j), u);
      }
      store<u64>(at(keys, j), v);
    }
    return;
  }
  for (let i = (n >> 1) - 1; i >= 0; i--) siftDown(keys, i, n);
  for (let end = n - 1; end > 0; end--) {
    const t = load<u64>(at(keys, 0));
    store<u64>(at(keys, 0), load<u64>(at(keys, end)));
    store<u64>(at(keys, end), t);
    siftDown(keys, 0, end);
  }
}
function siftDown(keys: usize, root: i32, n: i32): void {
  let i = root;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) return;
    let c = l;
    if (l + 1 < n && load<u64>(at(keys, l + 1)) < load<u64>(at(keys, l))) c = l + 1;
    const vi = load<u64>(at(keys, i)), vc = load<u64>(at(keys, c));
    if (vc >= vi) return;
    store<u64>(at(keys, i), vc);
    store<u64>(at(keys, c), vi);
    i = c;
  }
}

// selectDense's groups: their maxima, one key each, must fit the buffer (workspace.ts, denseTopK).
export const DENSE_GROUP: i32 = 16;

// For each 4-bit lane mask, the i8x16 swizzle that moves the i32 lanes set in it to the front, in
// lane order (128: a zero byte, past the lanes kept).
const COMPACT_I32X4: usize = memory.data<u8>([
  128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 128, 128, 128, 128, 128, 128, 128, 128,
  8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 8, 9, 10, 11, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 128, 128, 128, 128,
  12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  4, 5, 6, 7, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 128, 128, 128, 128,
  8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128, 128, 128, 128, 128,
  0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128,
  4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 128, 128, 128, 128,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
]);

// The lanes of v that selectDense pushes: at or above a positive bound t (tv: its splat), else above 0.
@inline function passing(v: v128, tv: v128, t: f32): i32 {
  return i32x4.bitmask(t > 0 ? f32x4.ge(v, tv) : f32x4.gt(v, tv));
}

// Pushes from a dense row h[0..n) what streaming the same values through selectPush would keep in
// the end: the top s.k keys among h > 0. The k-th largest of the maxima of whole groups of 16 is
// a lower bound t on the k-th largest value (k distinct latents reach it), so only latents at or
// above t (and above 0) can be among the top k: usually few more than k are pushed. NaNs are never
// pushed, as in the stream; a group maximum that skips one can only lower t.
export function selectDense(s: Selection, h: usize, n: i32): void {
  const groups = n / DENSE_GROUP;
  if (!ASC_NO_ASSERT) assert(groups <= s.cap && (h & 15) == 0, "selectDense: group maxima must fit the buffer, h 16-byte aligned");
  let t: f32 = 0;
  if (ASC_FEATURE_SIMD && groups > s.k) {
    for (let g = 0; g < groups; g++) {
      const p = h + (<usize>g << 6);
      // pmax from 0: a NaN lane is skipped (0 < NaN is false), and the maximum is at least 0.
      let a = f32x4.pmax(f32x4.pmax(f32x4.splat(0), v128.load(p)), v128.load(p, 16));
      a = f32x4.pmax(f32x4.pmax(a, v128.load(p, 32)), v128.load(p, 48));
      a = f32x4.pmax(a, v128.shuffle<f32>(a, a, 2, 3, 0, 1));
      a = f32x4.pmax(a, v128.shuffle<f32>(a, a, 1, 0, 3, 2));
      store<u64>(keyAt(s, g), keyOf(f32x4.extract_lane(a, 0), g));
    }
    t = selectKthValue(s, groups, s.k);
  }
  s.count = 0;
  let j = 0;
  if (ASC_FEATURE_SIMD) {
    const tv = f32x4.splat(t);
    // Branchless: the indices of the lanes that pass, packed into the keys buffer as i32 (it holds
    // 2 · cap of them), then made keys in place. Over cap of them, the rest go through selectPush.
    const keys = s.keys, room = s.cap - 4;
    let c = 0, iv = i32x4(0, 1, 2, 3);
    for (; j + 4 <= n && c <= room; j += 4) {
      const v = v128.load(h + (<usize>j << 2));
      const pass = passing(v, tv, t);
      v128.store(keys + (<usize>c << 2), i8x16.swizzle(iv, v128.load(COMPACT_I32X4 + (<usize>pass << 4))));
      c += <i32>popcnt(pass);
      iv = i32x4.add(iv, i32x4.splat(4));
    }
    // Key i overwrites i32 slots 2i and 2i + 1, never one below i: from the last down, each index is read first.
    for (let i = c - 1; i >= 0; i--) {
      const index = load<i32>(keys + (<usize>i << 2));
      store<u64>(keyAt(s, i), keyOf(load<f32>(h + (<usize>index << 2)), index));
    }
    s.count = c;
    for (; j + 4 <= n; j += 4) {
      const v = v128.load(h + (<usize>j << 2));
      const pass = passing(v, tv, t);
      if (!pass) continue;
      if (pass & 1) selectPush(s, j, f32x4.extract_lane(v, 0));
      if (pass & 2) selectPush(s, j + 1, f32x4.extract_lane(v, 1));
      if (pass & 4) selectPush(s, j + 2, f32x4.extract_lane(v, 2));
      if (pass & 8) selectPush(s, j + 3, f32x4.extract_lane(v, 3));
    }
  }
  for (; j < n; j++) {
    const v = load<f32>(h + (<usize>j << 2));
    if (v > 0) selectPush(s, j, v);
  }
}

// Writes the finished selection (count keys) as indices/values at position pos; returns the next position.
export function selectEmit(s: Selection, count: i32, idx: usize, val: usize, pos: i32): i32 {
  for (let e = 0; e < count; e++) {
    const key = load<u64>(keyAt(s, e));
    store<u32>(idx + (<usize>pos << 2), keyIndex(key));
    store<f32>(val + (<usize>pos << 2), keyValue(key));
    pos++;
  }
  return pos;
}
