// Charts drawn as SVG elements (no library, no inline styles: colours are
// classes in style.css, geometry is SVG attributes).

const NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, children = []) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  }
  for (const c of [].concat(children)) {
    if (c === null || c === undefined) continue;
    el.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return el;
}

function fixed(x, digits) {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/**
 * Horizontal bars around a zero line. `items`: [{label, detail, value}],
 * already ordered. Positive values (raise risk) go right. `format` writes
 * a value as text.
 */
export function contributionChart(items, { title, raisesText, lowersText, format = (v) => fixed(v, 2) }) {
  const rowH = 34;
  const labelW = 214;
  const chartW = 226;
  const valueW = 46;
  const top = 26;
  const width = labelW + chartW + valueW;
  const height = top + rowH * items.length + 8;
  const maxAbs = Math.max(1e-9, ...items.map((d) => Math.abs(d.value)));
  const half = chartW / 2 - 4;
  const zero = labelW + chartW / 2;
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart contrib-chart',
    role: 'img',
    'aria-label': title,
    preserveAspectRatio: 'xMinYMin meet',
  });
  root.append(svg('title', {}, title));
  root.append(
    svg('text', { x: zero - 8, y: 14, 'text-anchor': 'end', class: 'legend lowers' }, `← ${lowersText}`),
    svg('text', { x: zero + 8, y: 14, class: 'legend raises' }, `${raisesText} →`),
  );
  items.forEach((d, i) => {
    const y = top + i * rowH;
    const w = (Math.abs(d.value) / maxAbs) * half;
    const up = d.value >= 0;
    const g = svg('g', { class: 'bar-row' });
    g.append(svg('title', {}, `${d.label} = ${d.detail}: ${format(d.value)}`));
    g.append(
      svg('text', { x: labelW - 8, y: y + 14, 'text-anchor': 'end', class: 'bar-label' }, truncate(d.label, 26)),
      svg('text', { x: labelW - 8, y: y + 28, 'text-anchor': 'end', class: 'bar-detail' }, truncate(d.detail, 34)),
      svg('rect', {
        x: up ? zero : zero - w,
        y: y + 7,
        width: Math.max(w, 1),
        height: rowH - 14,
        rx: 3,
        class: up ? 'bar raises' : 'bar lowers',
      }),
      svg(
        'text',
        { x: width - 2, y: y + 22, 'text-anchor': 'end', class: 'bar-value' },
        format(d.value),
      ),
    );
    root.append(g);
  });
  root.append(svg('line', { x1: zero, x2: zero, y1: top - 4, y2: height - 4, class: 'axis zero' }));
  return root;
}

/**
 * ROC curve with the chance diagonal and the operating point at the
 * threshold; `ref` (optional) marks a second point, the model's own
 * threshold while another one is explored.
 */
export function rocChart(roc, { auc, point, ref, title, fprText, tprText, chanceText, pointText, refText }) {
  const size = 300;
  const pad = { l: 52, r: 14, t: 14, b: 46 };
  const w = size;
  const h = size;
  const X = (v) => pad.l + v * w;
  const Y = (v) => pad.t + (1 - v) * h;
  const root = svg('svg', {
    viewBox: `0 0 ${pad.l + w + pad.r} ${pad.t + h + pad.b}`,
    class: 'chart roc-chart',
    role: 'img',
    'aria-label': title,
  });
  root.append(svg('title', {}, title));
  for (let k = 0; k <= 4; k += 1) {
    const v = k / 4;
    root.append(
      svg('line', { x1: X(0), x2: X(1), y1: Y(v), y2: Y(v), class: 'grid' }),
      svg('line', { x1: X(v), x2: X(v), y1: Y(0), y2: Y(1), class: 'grid' }),
      svg('text', { x: X(v), y: Y(0) + 16, 'text-anchor': 'middle', class: 'tick' }, v.toFixed(2).replace(/0$/, '')),
      svg('text', { x: X(0) - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' }, v.toFixed(2).replace(/0$/, '')),
    );
  }
  root.append(svg('rect', { x: X(0), y: Y(1), width: w, height: h, class: 'frame' }));
  root.append(svg('line', { x1: X(0), y1: Y(0), x2: X(1), y2: Y(1), class: 'diagonal' }));
  root.append(svg('text', { x: X(0.62), y: Y(0.55), class: 'chance', transform: `rotate(-45 ${X(0.62)} ${Y(0.55)})` }, chanceText));
  const pts = roc.filter((p) => Number.isFinite(p.fpr) && Number.isFinite(p.tpr));
  const line = pts.map((p) => `${X(p.fpr).toFixed(1)},${Y(p.tpr).toFixed(1)}`).join(' ');
  const area = `${X(0)},${Y(0)} ${line} ${X(1)},${Y(0)}`;
  root.append(svg('polygon', { points: area, class: 'roc-area' }));
  root.append(svg('polyline', { points: line, class: 'roc-line' }));
  if (ref) {
    root.append(
      svg('circle', { cx: X(ref.fpr), cy: Y(ref.tpr), r: 4, class: 'ref-point', 'data-fpr': ref.fpr, 'data-tpr': ref.tpr }, [
        svg('title', {}, refText || ''),
      ]),
    );
  }
  if (point) {
    root.append(
      svg('circle', { cx: X(point.fpr), cy: Y(point.tpr), r: 5, class: 'roc-point', 'data-fpr': point.fpr, 'data-tpr': point.tpr }),
      svg(
        'text',
        {
          x: X(point.fpr) + (point.fpr > 0.6 ? -9 : 9),
          y: Y(point.tpr) + 16,
          'text-anchor': point.fpr > 0.6 ? 'end' : 'start',
          class: 'roc-point-label',
        },
        pointText,
      ),
    );
  }
  root.append(
    svg('text', { x: X(0.97), y: Y(0.06), 'text-anchor': 'end', class: 'auc-label' }, `AUC ${fixed(auc, 3)}`),
    svg('text', { x: X(0.5), y: pad.t + h + 38, 'text-anchor': 'middle', class: 'axis-title' }, fprText),
    svg(
      'text',
      { x: 14, y: Y(0.5), 'text-anchor': 'middle', class: 'axis-title', transform: `rotate(-90 14 ${Y(0.5)})` },
      tprText,
    ),
  );
  return root;
}

/** A 2×2 confusion matrix, cells shaded by their share of the row. */
export function confusionChart(c, { negative, positive, actualText, predictedText, title }) {
  const cell = 110;
  const left = 96;
  const top = 56;
  const root = svg('svg', {
    viewBox: `0 0 ${left + 2 * cell + 8} ${top + 2 * cell + 8}`,
    class: 'chart cm-chart',
    role: 'img',
    'aria-label': title,
  });
  root.append(svg('title', {}, title));
  root.append(
    svg('text', { x: left + cell, y: 16, 'text-anchor': 'middle', class: 'axis-title' }, predictedText),
    svg('text', { x: left + cell / 2, y: top - 10, 'text-anchor': 'middle', class: 'cm-class' }, truncate(negative, 14)),
    svg('text', { x: left + 1.5 * cell, y: top - 10, 'text-anchor': 'middle', class: 'cm-class' }, truncate(positive, 14)),
    svg('text', { x: 16, y: top + cell, 'text-anchor': 'middle', class: 'axis-title', transform: `rotate(-90 16 ${top + cell})` }, actualText),
    svg('text', { x: left - 10, y: top + cell / 2 + 4, 'text-anchor': 'end', class: 'cm-class' }, truncate(negative, 12)),
    svg('text', { x: left - 10, y: top + 1.5 * cell + 4, 'text-anchor': 'end', class: 'cm-class' }, truncate(positive, 12)),
  );
  const rows = [
    [c.tn, c.fp, 'tn', 'fp'],
    [c.fn, c.tp, 'fn', 'tp'],
  ];
  rows.forEach(([a, b, na, nb], r) => {
    const total = Math.max(1, a + b);
    [[a, na], [b, nb]].forEach(([v, name], k) => {
      const share = v / total;
      const level = Math.min(5, Math.round(share * 5));
      const correct = name === 'tn' || name === 'tp';
      const x = left + k * cell;
      const y = top + r * cell;
      root.append(
        svg('rect', {
          x: x + 2,
          y: y + 2,
          width: cell - 4,
          height: cell - 4,
          rx: 6,
          class: `cm-cell ${correct ? 'ok' : 'bad'} l${level}`,
        }),
        svg('text', { x: x + cell / 2, y: y + cell / 2 + 2, 'text-anchor': 'middle', class: `cm-count l${level}` }, String(v)),
        svg('text', { x: x + cell / 2, y: y + cell / 2 + 24, 'text-anchor': 'middle', class: `cm-share l${level}` }, `${name.toUpperCase()} · ${(share * 100).toFixed(0)}%`),
      );
    });
  });
  return root;
}

/** Square plot frame shared by the PR and reliability charts: grid, ticks, axis titles. */
function unitFrame(root, X, Y, { xText, yText, bottom }) {
  for (let k = 0; k <= 4; k += 1) {
    const v = k / 4;
    const label = v.toFixed(2).replace(/0$/, '');
    root.append(
      svg('line', { x1: X(0), x2: X(1), y1: Y(v), y2: Y(v), class: 'grid' }),
      svg('line', { x1: X(v), x2: X(v), y1: Y(0), y2: Y(1), class: 'grid' }),
      svg('text', { x: X(v), y: Y(0) + 16, 'text-anchor': 'middle', class: 'tick' }, label),
      svg('text', { x: X(0) - 6, y: Y(v) + 4, 'text-anchor': 'end', class: 'tick' }, label),
    );
  }
  root.append(
    svg('rect', { x: X(0), y: Y(1), width: X(1) - X(0), height: Y(0) - Y(1), class: 'frame' }),
    svg('text', { x: X(0.5), y: bottom, 'text-anchor': 'middle', class: 'axis-title' }, xText),
    svg('text', { x: 14, y: Y(0.5), 'text-anchor': 'middle', class: 'axis-title', transform: `rotate(-90 14 ${Y(0.5)})` }, yText),
  );
}

/**
 * Precision–recall curve (points in ascending recall), the no-skill line at
 * the positive rate, the average precision, and the operating point.
 */
export function prChart(pr, { ap, apText, baseline, point, title, recallText, precisionText, baselineText, pointText }) {
  const size = 300;
  const pad = { l: 52, r: 14, t: 14, b: 46 };
  const X = (v) => pad.l + v * size;
  const Y = (v) => pad.t + (1 - v) * size;
  const root = svg('svg', {
    viewBox: `0 0 ${pad.l + size + pad.r} ${pad.t + size + pad.b}`,
    class: 'chart pr-chart',
    role: 'img',
    'aria-label': title,
  });
  root.append(svg('title', {}, title));
  unitFrame(root, X, Y, { xText: recallText, yText: precisionText, bottom: pad.t + size + 38 });
  if (Number.isFinite(baseline)) {
    root.append(
      svg('line', { x1: X(0), x2: X(1), y1: Y(baseline), y2: Y(baseline), class: 'diagonal' }),
      svg('text', { x: X(0.98), y: Y(baseline) - 5, 'text-anchor': 'end', class: 'chance' }, baselineText),
    );
  }
  // Step-wise, as average precision sums it: each recall step at its precision.
  const steps = [];
  let prev = 0;
  for (const p of pr) {
    steps.push(`${X(prev).toFixed(1)},${Y(p.precision).toFixed(1)}`, `${X(p.recall).toFixed(1)},${Y(p.precision).toFixed(1)}`);
    prev = p.recall;
  }
  root.append(svg('polyline', { points: steps.join(' '), class: 'pr-line' }));
  if (point) {
    root.append(
      svg('circle', { cx: X(point.recall), cy: Y(point.precision), r: 5, class: 'roc-point', 'data-recall': point.recall, 'data-precision': point.precision }),
      svg(
        'text',
        {
          x: X(point.recall) + (point.recall > 0.6 ? -9 : 9),
          y: Y(point.precision) + (point.precision > 0.5 ? 18 : -10),
          'text-anchor': point.recall > 0.6 ? 'end' : 'start',
          class: 'roc-point-label',
        },
        pointText,
      ),
    );
  }
  root.append(svg('text', { x: X(0.97), y: Y(0.92), 'text-anchor': 'end', class: 'auc-label' }, `${apText} ${fixed(ap, 3)}`));
  return root;
}

/**
 * Reliability diagram: per bin, the observed rate of the positive class
 * against the mean predicted probability, with the diagonal of perfect
 * calibration. `bins`: [{meanPredicted, observed, rows}].
 */
export function reliabilityChart(bins, { title, predictedText, observedText, perfectText, binText }) {
  const size = 300;
  const pad = { l: 52, r: 14, t: 14, b: 46 };
  const X = (v) => pad.l + Math.min(1, Math.max(0, v)) * size;
  const Y = (v) => pad.t + (1 - Math.min(1, Math.max(0, v))) * size;
  const root = svg('svg', {
    viewBox: `0 0 ${pad.l + size + pad.r} ${pad.t + size + pad.b}`,
    class: 'chart reliability-chart',
    role: 'img',
    'aria-label': title,
  });
  root.append(svg('title', {}, title));
  unitFrame(root, X, Y, { xText: predictedText, yText: observedText, bottom: pad.t + size + 38 });
  root.append(
    svg('line', { x1: X(0), y1: Y(0), x2: X(1), y2: Y(1), class: 'diagonal' }),
    svg('text', { x: X(0.62), y: Y(0.55), class: 'chance', transform: `rotate(-45 ${X(0.62)} ${Y(0.55)})` }, perfectText),
  );
  const pts = bins.filter((b) => Number.isFinite(b.meanPredicted) && Number.isFinite(b.observed));
  // The gap to the diagonal of each bin, then the curve through the bins.
  for (const b of pts) {
    root.append(svg('line', { x1: X(b.meanPredicted), x2: X(b.meanPredicted), y1: Y(b.meanPredicted), y2: Y(b.observed), class: 'gap' }));
  }
  root.append(svg('polyline', { points: pts.map((b) => `${X(b.meanPredicted).toFixed(1)},${Y(b.observed).toFixed(1)}`).join(' '), class: 'rel-line' }));
  pts.forEach((b, i) => {
    root.append(
      svg('circle', { cx: X(b.meanPredicted), cy: Y(b.observed), r: 4.5, class: 'rel-point', 'data-bin': i }, [
        svg('title', {}, binText(b, i)),
      ]),
    );
  });
  return root;
}

/**
 * A small line over a history's steps (oldest first); `values` are numbers or
 * null (missing: a gap in the line, a hollow mark on the axis).
 */
export function sparkline(values, { title }) {
  const w = 120;
  const h = 28;
  const pad = 3;
  const nums = values.filter((v) => Number.isFinite(v));
  const lo = nums.length ? Math.min(...nums) : 0;
  const hi = nums.length ? Math.max(...nums) : 1;
  const span = hi - lo || 1;
  const n = Math.max(values.length - 1, 1);
  const X = (i) => pad + (i / n) * (w - 2 * pad);
  const Y = (v) => h - pad - ((v - lo) / span) * (h - 2 * pad);
  const root = svg('svg', { viewBox: `0 0 ${w} ${h}`, class: 'sparkline', role: 'img', 'aria-label': title });
  root.append(svg('title', {}, title));
  let run = [];
  const flush = () => {
    if (run.length > 1) root.append(svg('polyline', { points: run.join(' '), class: 'spark-line' }));
    run = [];
  };
  values.forEach((v, i) => {
    if (Number.isFinite(v)) {
      run.push(`${X(i).toFixed(1)},${Y(v).toFixed(1)}`);
      root.append(svg('circle', { cx: X(i).toFixed(1), cy: Y(v).toFixed(1), r: 1.6, class: 'spark-dot' }));
    } else {
      flush();
      root.append(svg('circle', { cx: X(i).toFixed(1), cy: h - pad, r: 1.6, class: 'spark-missing' }));
    }
  });
  flush();
  return root;
}

/**
 * Vertical bars, one per step of a history (oldest left), around a zero line:
 * which months moved the score. `items`: [{label, detail, value}].
 */
export function stepChart(items, { title, raisesText, lowersText, format = (v) => fixed(v, 2) }) {
  const colW = 40;
  const left = 8;
  const top = 22;
  const plotH = 150;
  const labelH = 34;
  const width = left * 2 + colW * Math.max(items.length, 1);
  const height = top + plotH + labelH;
  const maxAbs = Math.max(1e-9, ...items.map((d) => Math.abs(d.value)));
  const half = plotH / 2 - 4;
  const zero = top + plotH / 2;
  const root = svg('svg', {
    viewBox: `0 0 ${Math.max(width, 260)} ${height}`,
    class: 'chart step-chart',
    role: 'img',
    'aria-label': title,
    preserveAspectRatio: 'xMinYMin meet',
  });
  root.append(svg('title', {}, title));
  root.append(
    svg('text', { x: left, y: 12, class: 'legend raises' }, `↑ ${raisesText}`),
    svg('text', { x: left, y: height - 2, class: 'legend lowers' }, `↓ ${lowersText}`),
    svg('line', { x1: left, x2: width - left, y1: zero, y2: zero, class: 'zero-line' }),
  );
  items.forEach((d, i) => {
    const x = left + i * colW;
    const hgt = (Math.abs(d.value) / maxAbs) * half;
    const up = d.value >= 0;
    const g = svg('g', { class: 'step-bar', 'data-age': d.age, 'data-value': String(d.value) });
    g.append(svg('title', {}, `${d.label}: ${d.detail} — ${format(d.value)}`));
    g.append(
      svg('rect', {
        x: x + 6,
        y: up ? zero - hgt : zero,
        width: colW - 12,
        height: Math.max(hgt, 1),
        rx: 3,
        class: up ? 'bar raises' : 'bar lowers',
      }),
      svg('text', { x: x + colW / 2, y: top + plotH + 14, 'text-anchor': 'middle', class: 'bar-label' }, d.short),
    );
    root.append(g);
  });
  return root;
}
