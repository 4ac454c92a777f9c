// Float tensors that may stay on disk until read, so a checkpoint larger than
// memory quantizes one matrix at a time (buildModelStreamed).

export interface TensorLoadOptions {
  /** Reuse this buffer when it holds at least `length` values (the result is then a view of it). */
  into?: Float32Array;
  /** Called with the number of values read, as reading goes. */
  onValues?: (values: number) => void;
}

export interface LazyTensor {
  readonly length: number;
  load(opts?: TensorLoadOptions): Promise<Float32Array>;
}

/** A tensor in memory, or one read when asked for. */
export type TensorLike = Float32Array | LazyTensor;

export function loadTensor(t: TensorLike, opts?: TensorLoadOptions): Promise<Float32Array> {
  return t instanceof Float32Array ? Promise.resolve(t) : t.load(opts);
}

/**
 * The tensor with `fn` applied to its values on each load. Deferred even for arrays (copied
 * first), so a fold that needs another tensor runs only when this one is read.
 */
export function mapTensor(t: TensorLike, fn: (values: Float32Array) => void | Promise<void>): LazyTensor {
  return {
    length: t.length,
    async load(opts) {
      const values = t instanceof Float32Array ? t.slice() : await t.load(opts);
      await fn(values);
      return values;
    },
  };
}
