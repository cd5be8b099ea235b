/** Validation scores per output, from targets and predictions laid out count x dims. */
export interface OutputScore {
  r2: number;
  rmse: number;
  /** Held-out pairs scored. */
  n: number;
}

export function scores(truth: Float32Array, pred: Float32Array, count: number, dims: number): OutputScore[] {
  const out: OutputScore[] = [];
  for (let d = 0; d < dims; d++) {
    let mean = 0;
    for (let i = 0; i < count; i++) mean += truth[i * dims + d]!;
    mean /= count;
    let ssRes = 0;
    let ssTot = 0;
    for (let i = 0; i < count; i++) {
      const t = truth[i * dims + d]!;
      ssRes += (t - pred[i * dims + d]!) ** 2;
      ssTot += (t - mean) ** 2;
    }
    out.push({ r2: ssTot > 0 ? 1 - ssRes / ssTot : Number.NaN, rmse: Math.sqrt(ssRes / count), n: count });
  }
  return out;
}
