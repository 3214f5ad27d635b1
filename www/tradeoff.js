// The threshold trade-off of a model's stored test metrics, computed from
// its ROC points (no scoring, no wasm): counts at a point, the figures an
// advisor decides on, the operating points a slider moves over, the PR
// curve and its average precision. Positive = refused ("bad" predicted).

/** Counts at a ROC point: {tp, fn, fp, tn}, rounded to whole customers. */
export function countsAt(point, rows, positives) {
  const P = positives;
  const N = rows - positives;
  const tp = Math.round(point.tpr * P);
  const fp = Math.round(point.fpr * N);
  return { tp, fn: P - tp, fp, tn: N - fp };
}

/**
 * The figures at counts `c` of `rows` customers: approval rate, bad rate
 * among approved (null when nobody is approved), expected cost per
 * customer (null without valid costs), precision (null when nobody is
 * refused) and recall.
 */
export function figuresAt(c, rows, costs) {
  const approved = c.fn + c.tn;
  const refused = c.tp + c.fp;
  const positives = c.tp + c.fn;
  const validCosts = costs && Number.isFinite(costs.fn) && Number.isFinite(costs.fp) && costs.fn >= 0 && costs.fp >= 0;
  return {
    approved,
    refused,
    approvalRate: rows > 0 ? approved / rows : null,
    badRateApproved: approved > 0 ? c.fn / approved : null,
    expectedCost: validCosts && rows > 0 ? (c.fn * costs.fn + c.fp * costs.fp) / rows : null,
    precision: refused > 0 ? c.tp / refused : null,
    recall: positives > 0 ? c.tp / positives : null,
  };
}

/**
 * The positions of the threshold slider, from the highest threshold (the
 * ROC curve's (0,0): nobody refused) to the lowest (everybody refused):
 * each stored ROC point, plus the model's own threshold with the stored
 * confusion matrix. When a ROC point has the model's counts it becomes the
 * model's point; otherwise (a thinned curve) the model's point is inserted
 * where its threshold falls. Each: {fpr, tpr, threshold, counts, model, rocIndex}.
 */
export function operatingPoints(m) {
  const rows = m.rows;
  const positives = m.positives;
  const N = rows - positives;
  const roc = Array.isArray(m.roc) ? m.roc : [];
  const points = roc
    .map((p, i) => ({ fpr: p.fpr, tpr: p.tpr, threshold: p.threshold, counts: countsAt(p, rows, positives), model: false, rocIndex: i }))
    .filter((p) => Number.isFinite(p.fpr) && Number.isFinite(p.tpr));
  const c = m.confusion;
  if (!c || !Number.isFinite(m.threshold) || positives <= 0 || N <= 0) return points;
  const own = {
    fpr: c.fp / N,
    tpr: c.tp / positives,
    threshold: m.threshold,
    counts: { tp: c.tp, fn: c.fn, fp: c.fp, tn: c.tn },
    model: true,
    rocIndex: null,
  };
  const same = points.findIndex((p) => p.counts.tp === c.tp && p.counts.fp === c.fp);
  if (same >= 0) {
    points[same] = { ...own, rocIndex: points[same].rocIndex };
    return points;
  }
  // Thresholds descend: the model's point goes before the first lower one.
  let at = points.findIndex((p) => p.threshold < m.threshold);
  if (at < 0) at = points.length;
  points.splice(at, 0, own);
  return points;
}

/** PR points from ROC points (recall = tpr, precision = TP / (TP + FP)); points nobody is refused at are left out. */
export function prPoints(roc, rows, positives) {
  const out = [];
  for (const p of roc || []) {
    if (!Number.isFinite(p.fpr) || !Number.isFinite(p.tpr)) continue;
    const c = countsAt(p, rows, positives);
    if (c.tp + c.fp === 0) continue;
    out.push({ recall: p.tpr, precision: c.tp / (c.tp + c.fp), threshold: p.threshold });
  }
  return out;
}

/** Average precision of PR points in ascending recall: Σ (recall_k − recall_{k−1}) · precision_k. */
export function averagePrecision(pr) {
  let ap = 0;
  let prev = 0;
  for (const p of pr) {
    ap += (p.recall - prev) * p.precision;
    prev = p.recall;
  }
  return ap;
}
