// Node 20 can leave a wasm compile or instantiate promise unsettled for ever when nothing else
// keeps its event loop turning (nodejs/node#36616, #54918: the idle loop waits while a background
// compile job waits for a GC). A timer pending until the promise settles keeps the loop turning.

/** `p`, with a timer pending until it settles (where the runtime allows timers here). */
export async function keepTurning<T>(p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    timer = setInterval(() => {}, 1000);
  } catch {
    // Workers refuse timers at module scope; they have no such idle loop to guard against.
  }
  try {
    return await p;
  } finally {
    if (timer !== undefined) clearInterval(timer);
  }
}
