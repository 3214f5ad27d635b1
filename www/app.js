// The advisor page. Everything is scored in this page by the wasm runtime
// (www/pkg): the customer form, the explanation, and batch files (in a Web
// Worker). The only requests are for the page's own files, the model list
// and the model files, all from the page's origin.

import { createScorer, ready, Scorer } from './pkg/index.js';
import { t, setLanguage, language, translatePage, featureLabel, fmtInt, kindLabel } from './i18n.js';
import { contributionChart, rocChart, confusionChart, prChart, reliabilityChart, sparkline, stepChart, svg } from './charts.js';
import { figuresAt, operatingPoints, prPoints, averagePrecision } from './tradeoff.js';
import { f32Text } from './pkg/csvtools.js';
import { checkModel } from './trust.js';

const $ = (id) => document.getElementById(id);

/** Replaces an element's children, skipping null/undefined/false entries. */
function fill(el, ...children) {
  el.replaceChildren(...children.filter((c) => c !== null && c !== undefined && c !== false));
}

/** Creates an HTML element: h('p', {class: 'x'}, ['text', child]). */
function h(tag, attrs = {}, children = []) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of [].concat(children)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'string' || typeof c === 'number' ? String(c) : c);
  }
  return el;
}

const state = {
  /** [{key, id, label, kindName, url | bytes, source}] */
  models: [],
  /** {key, name, scorer, bytes, schema, metadata, metrics} of the loaded model. */
  current: null,
  /** Last scored customer: {prediction, explanation, explainError}. */
  result: null,
  formError: null,
  batch: null,
  /** The batch scorer (a Promise of the package's worker scorer), its model, and the running batch's AbortController. */
  worker: null,
  workerModel: null,
  batchAbort: null,
  listMessage: '',
  modelMessage: null,
  /** Threshold exploration of the loaded model: {position, costFn, costFp} (never written to the file). */
  explore: null,
};

// ---------------------------------------------------------------------------
// Formatting

/** An f32 for display: its shortest digits, without a trailing `.0`. */
function num(x) {
  if (!Number.isFinite(x)) return '–';
  return String(Number(f32Text(Math.fround(x))));
}

function dec(x, digits = 3) {
  return Number.isFinite(x) ? x.toFixed(digits) : '–';
}

function pct(p) {
  return `${(p * 100).toFixed(1)}%`;
}

// ---------------------------------------------------------------------------
// Model list and loading

async function fetchJson(url) {
  const res = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Error(`${res.status}`);
  const type = res.headers.get('content-type') || '';
  if (!type.includes('json')) throw new Error('not JSON');
  return res.json();
}

async function loadModelList() {
  let list = null;
  let base = new URL('models', document.baseURI);
  try {
    list = await fetchJson(base);
  } catch {
    // Static hosting: a models/index.json beside the page lists the files.
    base = new URL('models/index.json', document.baseURI);
    try {
      list = await fetchJson(base);
    } catch {
      list = null;
    }
  }
  if (!Array.isArray(list)) {
    state.listMessage = 'model.listFailed';
    return;
  }
  for (const m of list) {
    if (!m || typeof m.id !== 'string' || typeof m.file !== 'string') continue;
    state.models.push({
      key: `server:${m.id}`,
      id: m.id,
      kind: m.kind,
      kindName: m.kindName || m.kind || '',
      url: new URL(m.file, base).href,
      source: 'server',
    });
  }
  if (state.models.length === 0) state.listMessage = 'model.none';
}

function modelOptionText(m) {
  if (m.source === 'file') return t('model.yourFile', { name: m.id });
  const kind = kindLabel(m.kind, m.kindName);
  return kind ? `${kind} (${m.id})` : m.id;
}

function renderModelPicker() {
  const sel = $('model-select');
  fill(sel, ...state.models.map((m) => h('option', { value: m.key, selected: state.current?.key === m.key }, modelOptionText(m))));
  sel.disabled = state.models.length === 0;
}

function setModelStatus(key, vars = {}, kind = 'info') {
  state.modelMessage = key ? { key, vars, kind } : null;
  renderModelStatus();
}

function renderModelStatus() {
  const el = $('model-status');
  const m = state.modelMessage;
  if (!m && state.listMessage && state.models.length === 0) {
    el.textContent = t(state.listMessage);
    el.className = 'status';
    return;
  }
  el.textContent = m ? t(m.key, m.vars) : '';
  el.className = `status ${m?.kind === 'error' ? 'error' : ''}`;
}

async function selectModel(key) {
  const entry = state.models.find((m) => m.key === key);
  if (!entry) return;
  setModelStatus('model.loading', { name: entry.id });
  try {
    let bytes = entry.bytes;
    if (!bytes) {
      const res = await fetch(entry.url);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      bytes = new Uint8Array(await res.arrayBuffer());
    }
    await checkModel(bytes);
    useModel(entry, bytes);
    setModelStatus(null);
  } catch (e) {
    setModelStatus('model.loadError', { name: entry.id, message: errorText(e) }, 'error');
    renderModelPicker();
  }
}

function errorText(e) {
  return e && typeof e.message === 'string' ? e.message : String(e);
}

/** Loads bytes into a scorer and makes it the current model (throws on a bad file). */
function useModel(entry, bytes) {
  const scorer = Scorer.load(bytes);
  // Keep the customer typed so far: features the new model shares keep their values.
  const typed = state.current ? readForm() : null;
  const next = {
    key: entry.key,
    name: entry.id,
    scorer,
    bytes,
    schema: scorer.schema(),
    metadata: scorer.metadata(),
    metrics: scorer.metrics(),
  };
  // The slider's positions over the stored test ROC points (and the model's own threshold).
  next.points = next.metrics ? operatingPoints(next.metrics) : [];
  next.modelPosition = Math.max(0, next.points.findIndex((p) => p.model));
  next.pr = next.metrics ? prPoints(next.metrics.roc, next.metrics.rows, next.metrics.positives) : [];
  state.explore = { position: next.modelPosition, costFn: '5', costFp: '1' };
  const old = state.current;
  state.current = next;
  if (old && old.scorer !== scorer) old.scorer.free();
  state.result = null;
  state.formError = null;
  stopWorker();
  if (state.batch?.url) URL.revokeObjectURL(state.batch.url);
  state.batch = null;
  try {
    localStorage.setItem('ferrisk.model', entry.key);
  } catch {
    // Storage may be disabled; the choice is just not remembered.
  }
  renderModelPicker();
  renderModelInfo();
  renderForm(typed);
  renderQuality();
  renderBatch();
  scoreNow();
  document.body.dataset.model = entry.key;
}

async function openModelFile(file) {
  if (!file) return;
  if (!/\.frk$/i.test(file.name)) {
    setModelStatus('model.notFrk', { name: file.name }, 'error');
    return;
  }
  setModelStatus('model.loading', { name: file.name });
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    await checkModel(bytes);
    const id = file.name.replace(/\.frk$/i, '');
    const key = `file:${file.name}:${file.size}:${file.lastModified}`;
    let entry = state.models.find((m) => m.key === key);
    if (!entry) {
      entry = { key, id, source: 'file', bytes };
      // Validate before listing it.
      const probe = Scorer.load(bytes);
      entry.kindName = probe.metadata().kindName;
      probe.free();
      state.models.push(entry);
    }
    useModel(entry, bytes);
    setModelStatus('model.loaded', { name: file.name });
  } catch (e) {
    setModelStatus('model.loadError', { name: file.name, message: errorText(e) }, 'error');
  }
}

function renderModelInfo() {
  const dl = $('model-info');
  const cur = state.current;
  if (!cur) {
    fill(dl);
    return;
  }
  const md = cur.metadata;
  const s = cur.schema;
  const created = md.createdUnix
    ? new Date(md.createdUnix * 1000).toLocaleString(language() === 'zh' ? 'zh-CN' : 'en-GB', {
        dateStyle: 'medium',
        timeStyle: 'short',
      })
    : '–';
  const rows = [
    ['model.kind', kindLabel(md.kind, md.kindName)],
    ['model.target', t('model.targetValue', { label: s.label, positive: s.positive })],
    ['model.threshold', num(md.threshold)],
    ['model.data', md.dataName ? t('model.dataRows', { name: md.dataName, rows: fmtInt(md.dataRows) }) : '–'],
    ['model.created', created],
    ['model.explanation', md.explanationMethod],
    ['model.producer', md.producer || '–'],
  ];
  const items = rows.flatMap(([k, v]) => [h('div', { class: 'kv' }, [h('dt', {}, t(k)), h('dd', {}, v)])]);
  if (md.embedsTrainingRows) {
    items.push(h('div', { class: 'kv wide notice' }, [h('dd', {}, t('model.confidential'))]));
  }
  fill(dl, ...items);
}

// ---------------------------------------------------------------------------
// Customer form

function fieldId(i) {
  return `f-${i}`;
}

/** Current form values by feature name (text as typed). */
function readForm() {
  const values = {};
  for (const el of $('fields').querySelectorAll('[data-feature]')) {
    if (el.tagName === 'INPUT' || el.tagName === 'SELECT') values[el.dataset.feature] = el.value;
  }
  return values;
}

function renderForm(values) {
  const fields = $('fields');
  const cur = state.current;
  if (!cur) {
    fill(fields, h('p', { class: 'muted' }, t('form.noModel')));
    return;
  }
  const history = cur.metadata.history || null;
  const inHistory = historyFeatures(history);
  const items = cur.schema.features.map((f, i) => {
    if (inHistory.has(f.name)) return null;
    const id = fieldId(i);
    const value = values && f.name in values ? values[f.name] : String(f.typical);
    const hintId = `${id}-hint`;
    const msgId = `${id}-msg`;
    let control;
    let hint;
    if (f.type === 'numeric') {
      control = h('input', {
        id,
        type: 'text',
        inputmode: 'decimal',
        spellcheck: 'false',
        value,
        'data-feature': f.name,
        'aria-describedby': `${hintId} ${msgId}`,
      });
      hint = t('form.range', { min: num(f.min), max: num(f.max) });
    } else {
      const cats = f.categories.slice();
      if (value !== '' && !cats.includes(value)) cats.push(value);
      control = h(
        'select',
        { id, 'data-feature': f.name, 'aria-describedby': msgId },
        cats.map((c) => h('option', { value: c, selected: c === value }, c)),
      );
      hint = '';
    }
    return h('div', { class: `field ${f.type}`, 'data-field': f.name }, [
      h('label', { for: id, title: f.name }, featureLabel(f.name)),
      control,
      hint ? h('small', { id: hintId, class: 'hint' }, hint) : null,
      h('p', { id: msgId, class: 'field-msg' }),
    ]);
  });
  if (history) items.push(historyTable(history, values));
  fill(fields, ...items);
}

// ---------------------------------------------------------------------------
// A customer's history (sequence models): a month-by-month table, one row per
// channel, oldest month first, each row with a sparkline; prefilled with the
// typical value of every month (the training median or most frequent value).

/** Names of the schema features a history reads. */
function historyFeatures(history) {
  const names = new Set();
  for (const ch of history?.channels || []) for (const f of ch.features) names.add(f);
  return names;
}

/** "12 months ago" … "last month" as a short column heading. */
function ageText(history, age) {
  return age === 1 ? t('history.last', { unit: history.unit }) : t('history.ago', { n: age, unit: history.unit });
}

function historyTable(history, values) {
  const cur = state.current;
  const byName = new Map(cur.schema.features.map((f, i) => [f.name, [f, i]]));
  const ages = Array.from({ length: history.steps }, (_, k) => history.steps - k);
  const head = h('tr', {}, [
    h('th', { scope: 'col' }, featureLabel(history.unit)),
    ...history.channels.map((ch) => h('th', { scope: 'col', 'data-channel': ch.name }, featureLabel(ch.name))),
  ]);
  const cell = (ch, k) => {
    const name = ch.features[k];
    const [f, i] = byName.get(name) || [null, -1];
    const id = fieldId(i);
    const value = values && name in values ? values[name] : f ? String(f.typical) : '';
    const label = `${featureLabel(ch.name)}, ${ageText(history, ages[k])}`;
    let control;
    if (f && f.type === 'categorical') {
      const cats = f.categories.slice();
      if (value !== '' && !cats.includes(value)) cats.push(value);
      control = h(
        'select',
        { id, 'data-feature': name, title: name },
        cats.map((c) => h('option', { value: c, selected: c === value }, c)),
      );
    } else {
      control = h('input', { id, type: 'text', inputmode: 'decimal', spellcheck: 'false', value, 'data-feature': name, title: name });
    }
    return h('td', { class: 'field cell', 'data-field': name }, [
      h('label', { for: id, class: 'visually-hidden' }, label),
      control,
      h('p', { class: 'field-msg' }),
    ]);
  };
  // One row per month, oldest first; one column per channel.
  const rows = ages.map((age, k) =>
    h('tr', { 'data-age': age }, [h('th', { scope: 'row', class: 'age' }, ageText(history, age)), ...history.channels.map((ch) => cell(ch, k))]),
  );
  const trend = h('tr', { class: 'trend' }, [
    h('th', { scope: 'row' }, t('history.trend')),
    ...history.channels.map((ch) => h('td', { class: 'spark', 'data-spark': ch.name })),
  ]);
  const block = h('fieldset', { class: 'history', id: 'history' }, [
    h('legend', {}, t('history.title', { name: featureLabel(history.name), unit: history.unit })),
    h('p', { class: 'muted small' }, t('history.help')),
    h('div', { class: 'table-wrap' }, h('table', { class: 'history-table' }, [h('thead', {}, [head, trend]), h('tbody', {}, rows)])),
  ]);
  updateSparklines(block, history);
  return block;
}

/** Redraws each channel's sparkline from the values in the table. */
function updateSparklines(root = $('fields'), history = state.current?.metadata.history) {
  if (!history) return;
  for (const ch of history.channels) {
    const cell = root.querySelector(`[data-spark="${CSS.escape(ch.name)}"]`);
    if (!cell) continue;
    const vals = ch.features.map((name) => {
      const el = root.querySelector(`[data-feature="${CSS.escape(name)}"]`);
      if (!el) return null;
      if (ch.kind === 'categorical') {
        // Categories by their position in the option list (most frequent first).
        return el.selectedIndex >= 0 ? -el.selectedIndex : null;
      }
      const v = el.value.trim();
      return v === '' ? null : Number(v);
    });
    fill(cell, sparkline(vals, { title: t('history.spark', { channel: featureLabel(ch.name) }) }));
  }
}

/** The customer object given to the scorer: numbers as typed text, empty = missing. */
function customerFromForm() {
  const customer = {};
  for (const [name, value] of Object.entries(readForm())) {
    const v = value.trim();
    customer[name] = v === '' ? null : v;
  }
  return customer;
}

function fieldFor(feature) {
  return document.querySelector(`[data-field="${CSS.escape(feature)}"]`);
}

function clearFieldMessages() {
  for (const field of $('fields').querySelectorAll('.field')) {
    field.classList.remove('invalid', 'warn');
    const control = field.querySelector('input, select');
    control?.removeAttribute('aria-invalid');
    const msg = field.querySelector('.field-msg');
    if (msg) msg.textContent = '';
  }
}

function showRangeHints(customer) {
  for (const f of state.current.schema.features) {
    if (f.type !== 'numeric') continue;
    const v = customer[f.name];
    if (v === null) continue;
    const x = Number(v);
    if (Number.isFinite(x) && (x < f.min || x > f.max)) {
      const field = fieldFor(f.name);
      field?.classList.add('warn');
      const msg = field?.querySelector('.field-msg');
      if (msg) msg.textContent = t('form.outside', { min: num(f.min), max: num(f.max) });
    }
  }
}

/** A person-readable message for a scorer error about one feature. */
function fieldMessage(message, feature) {
  const f = state.current.schema.features.find((x) => x.name === feature);
  const notNumber = /': '(.*)' is not a number/.exec(message);
  if (notNumber && f) return t('err.notNumber', { value: notNumber[1], example: f.typical });
  if (/not a finite number/.test(message)) return t('err.notFinite');
  return message;
}

/** Numbers the explanations asked of the worker; an answer to an older one is dropped. */
let explainSeq = 0;

function scoreNow() {
  const cur = state.current;
  if (!cur) return;
  clearFieldMessages();
  const customer = customerFromForm();
  showRangeHints(customer);
  let prediction;
  try {
    prediction = cur.scorer.predict(customer);
  } catch (e) {
    const message = errorText(e);
    const feature = /feature '([^']+)'/.exec(message)?.[1];
    const field = feature ? fieldFor(feature) : null;
    if (field) {
      field.classList.remove('warn');
      field.classList.add('invalid');
      field.querySelector('input, select')?.setAttribute('aria-invalid', 'true');
      field.querySelector('.field-msg').textContent = fieldMessage(message, feature);
    }
    state.formError = field ? 'form.invalid' : message;
    renderFormError();
    $('result').classList.add('stale');
    return;
  }
  const scoreOptions = { explain: true, reasons: 4, lang: language(), record: true };
  if (cur.metadata.history) {
    // A history model's explanation (a Shapley value per static feature and
    // per month) runs in the package's worker, so typing never waits for it.
    state.formError = null;
    renderFormError();
    state.result = { prediction, explanation: null, explainError: null, credit: null, customer, pending: true };
    $('result').classList.remove('stale');
    renderResult();
    const seq = ++explainSeq;
    const started = performance.now();
    batchScorer(cur)
      .then((ws) => ws.score(customer, scoreOptions))
      .then(
        (credit) => ({ credit, explanation: credit.explanation, explainError: null }),
        (e) => ({ credit: null, explanation: null, explainError: errorText(e) }),
      )
      .then((done) => {
        if (seq !== explainSeq || state.current !== cur) return;
        state.result = { ...state.result, ...done, pending: false, explainMs: performance.now() - started };
        renderResult();
      });
    return;
  }
  explainSeq++;
  let explanation = null;
  let explainError = null;
  let credit = null;
  try {
    // One call through the runtime's row scorer: the explanation, the
    // principal reasons (texts in the page's language) and the scorecard
    // points with their split by feature (the `Scored` view).
    // With its decision record, which `ferrisk replay` reproduces bit for bit.
    credit = cur.scorer.score(customer, scoreOptions);
    explanation = credit.explanation;
  } catch (e) {
    explainError = errorText(e);
  }
  state.formError = null;
  renderFormError();
  state.result = { prediction, explanation, explainError, credit, customer };
  $('result').classList.remove('stale');
  renderResult();
}

function renderFormError() {
  const e = state.formError;
  $('form-error').textContent = e ? (e.startsWith('form.') ? t(e) : e) : '';
}

// ---------------------------------------------------------------------------
// Result

function gauge(p, threshold) {
  const w = 400;
  const x = (v) => 4 + v * (w - 8);
  return svg('svg', { viewBox: `0 0 ${w} 30`, class: 'gauge', 'aria-hidden': 'true' }, [
    svg('rect', { x: 4, y: 8, width: w - 8, height: 12, rx: 6, class: 'gauge-track' }),
    svg('rect', { x: 4, y: 8, width: Math.max(0, x(p) - 4), height: 12, rx: 6, class: p >= threshold ? 'gauge-fill pos' : 'gauge-fill neg' }),
    svg('line', { x1: x(threshold), x2: x(threshold), y1: 2, y2: 26, class: 'gauge-threshold' }),
  ]);
}

function renderResult() {
  const body = $('result-body');
  const reasons = $('reasons');
  const cur = state.current;
  const r = state.result;
  if (!cur || !r) {
    fill(body, h('p', { class: 'muted' }, t('result.empty')));
    fill(reasons);
    return;
  }
  const s = cur.schema;
  const p = r.prediction;
  const warnings = p.warnings || [];
  fill(
    body,
    h('div', { class: 'pd' }, [
      h('div', { class: 'pd-label' }, [
        h('span', {}, t('result.pdDefault')),
        h('span', { class: 'muted' }, ` · P(${s.label} = ${s.positive})`),
      ]),
      h('output', { id: 'probability', 'data-probability': f32Text(p.probability), for: 'customer-form' }, pct(p.probability)),
      gauge(p.probability, p.threshold),
      h('p', { id: 'decision', class: `decision ${p.decision ? 'pos' : 'neg'}`, 'data-decision': String(p.decision) }, [
        h('strong', {}, p.decision ? t('result.decisionPos', { positive: s.positive }) : t('result.decisionNeg', { negative: s.negative })),
        ' ',
        h('span', {}, t('result.decisionHelp', { threshold: num(p.threshold) })),
      ]),
      r.credit
        ? h('p', { class: 'points' }, [
            h('span', { class: 'muted' }, t('result.points')),
            ' ',
            h('output', { id: 'points', 'data-points': String(r.credit.points) }, String(Math.round(r.credit.points))),
          ])
        : null,
    ]),
    r.credit && r.credit.reasons.length
      ? h('div', { class: 'reason-codes' }, [
          h('h3', {}, t(p.decision ? 'result.reasonCodesDecline' : 'result.reasonCodes')),
          h(
            'ol',
            { id: 'reason-list' },
            r.credit.reasons.map((x) =>
              h('li', { 'data-reason': x.feature }, [h('span', {}, x.text), ' ', h('span', { class: 'muted small' }, t('result.reasonPoints', { points: Math.round(x.points) }))]),
            ),
          ),
        ])
      : null,
    warnings.length
      ? h('div', { class: 'warnings' }, [
          h('h3', {}, t('result.warnings')),
          h('ul', {}, warnings.map((w) => h('li', {}, w))),
        ])
      : null,
    r.credit && r.credit.record
      ? h('details', { class: 'record', id: 'decision-record' }, [
          h('summary', {}, t('result.record')),
          h('p', { class: 'muted small' }, t('result.recordHelp')),
          h('pre', { id: 'record-json' }, JSON.stringify(r.credit.record)),
        ])
      : null,
  );
  $('result').dataset.explained = r.pending ? 'pending' : 'done';
  if (r.pending) {
    fill(reasons, h('p', { class: 'muted', id: 'explaining' }, t('result.explaining')));
    return;
  }
  if (!r.explanation && r.explainError && cur.metadata.history) {
    fill(reasons, h('p', { class: 'muted', id: 'explain-error' }, r.explainError));
    return;
  }
  if (!r.explanation) {
    fill(reasons, h('p', { class: 'muted', id: 'no-explain' }, t('result.noExplain', { kind: kindLabel(cur.metadata.kind, cur.metadata.kindName) })));
    return;
  }
  const e = r.explanation;
  const inProbability = e.unit === 'probability';
  const signed = (v, text) => `${v >= 0 ? '+' : '−'}${text}`;
  const format = inProbability
    ? (v) => signed(v, `${(Math.abs(v) * 100).toFixed(1)} pp`)
    : (v) => signed(v, dec(Math.abs(v), 2));
  const steps = e.contributions.filter((c) => c.step);
  const history = cur.metadata.history;
  const monthBlock =
    steps.length && history
      ? h('div', { class: 'months', id: 'month-effects' }, [
          h('h3', {}, t('history.moved', { unit: history.unit })),
          h('p', { class: 'help' }, t('history.movedHelp', { positive: s.positive })),
          h(
            'div',
            { class: 'chart-wrap' },
            stepChart(
              steps.map((c) => ({
                age: c.step.age,
                short: c.step.age === 1 ? t('history.lastShort') : `−${c.step.age}`,
                label: c.step.ago,
                detail: c.step.values.map((v, k) => `${featureLabel(history.channels[k]?.name ?? '')} ${v}`).join(', '),
                value: c.contribution,
              })),
              { title: t('history.moved', { unit: history.unit }), raisesText: t('result.raises'), lowersText: t('result.lowers'), format },
            ),
          ),
          r.explainMs !== undefined ? h('p', { class: 'muted small', id: 'explain-ms' }, t('history.explainTime', { ms: Math.round(r.explainMs) })) : null,
        ])
      : null;
  const labelOf = (c) => (c.step && history ? `${featureLabel(history.name)}, ${c.step.ago}` : featureLabel(c.feature));
  const sorted = e.contributions.slice().sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  const top = sorted.slice(0, 10);
  const rest = sorted.slice(10);
  const restSum = rest.reduce((acc, c) => acc + c.contribution, 0);
  const chart = contributionChart(
    top.map((c) => ({ label: labelOf(c), detail: c.value, value: c.contribution })),
    { title: t('result.reasons'), raisesText: t('result.raises'), lowersText: t('result.lowers'), format },
  );
  fill(
    reasons,
    h('p', { class: 'help' }, t(inProbability ? 'result.reasonsHelpProb' : 'result.reasonsHelp', { positive: s.positive })),
    monthBlock,
    h('div', { class: 'chart-wrap', id: 'contributions' }, chart),
    rest.length ? h('p', { class: 'muted small' }, t('result.others', { n: rest.length, sum: format(restSum) })) : null,
    h(
      'p',
      { class: 'muted small' },
      inProbability
        ? t('result.baselineProb', { base: pct(e.base), output: pct(e.output) })
        : t('result.baseline', { base: dec(e.base, 2), output: dec(e.output, 2) }),
    ),
    h('p', { class: 'muted small' }, t('result.method', { method: e.method })),
  );
}

// ---------------------------------------------------------------------------
// Model quality

function cvText(m) {
  const cv = m.cvAuc;
  if (Array.isArray(cv) && cv.length) {
    const mean = cv.reduce((a, b) => a + b, 0) / cv.length;
    const sd = cv.length > 1 ? Math.sqrt(cv.reduce((a, b) => a + (b - mean) ** 2, 0) / (cv.length - 1)) : 0;
    return t('metric.cvAucValue', { mean: dec(mean), std: dec(sd), k: cv.length });
  }
  if (typeof cv === 'number') return dec(cv);
  return null;
}

/** A threshold for display: its f32 digits, or “above every score” at the ROC curve's first point. */
function thresholdText(x) {
  return Number.isFinite(x) ? num(x) : t('explore.aboveAll');
}

/** A ratio as a percentage, or – when undefined. */
function pctOr(x) {
  return Number.isFinite(x) ? pct(x) : '–';
}

/** A cost as typed or stored: a plain number. */
function costText(x) {
  return Number.isFinite(x) ? String(x) : '–';
}

/** Average precision: the file's, else computed step-wise from the stored ROC points. */
function apOf(m, pr) {
  if (Number.isFinite(m.averagePrecision)) return { value: m.averagePrecision, source: 'file' };
  if (pr.length) return { value: averagePrecision(pr), source: 'curve' };
  return { value: null, source: 'none' };
}

/** The metrics table; `extra` rows ([labelKey, text, key, value, attrs]) after the standard ones. */
function metricsTable(m, idPrefix, extra = [], caption = null) {
  const rows = [
    ['metric.accuracy', dec(m.accuracy), 'accuracy'],
    ['metric.precision', dec(m.precision), 'precision'],
    ['metric.recall', dec(m.recall), 'recall'],
    ['metric.f1', dec(m.f1), 'f1'],
    ['metric.rocAuc', dec(m.rocAuc), 'rocAuc'],
    ['metric.ks', dec(m.ks), 'ks'],
    ['metric.brier', dec(m.brier), 'brier'],
    ['metric.logLoss', dec(m.logLoss), 'logLoss'],
  ];
  const cv = cvText(m);
  if (cv) rows.push(['metric.cvAuc', cv, 'cvAuc']);
  return h('table', { class: 'metrics', id: `${idPrefix}-metrics` }, [
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, [h('th', { scope: 'col' }, t('quality.metric')), h('th', { scope: 'col' }, t('quality.value'))])),
    h('tbody', {}, [
      ...rows.map(([k, v, key]) => h('tr', { 'data-metric': key }, [h('th', { scope: 'row' }, t(k)), h('td', { 'data-value': String(m[key] ?? '') }, v)])),
      ...extra.map(([k, v, key, value, attrs = {}]) =>
        h('tr', { 'data-metric': key }, [h('th', { scope: 'row' }, t(k)), h('td', { 'data-value': value == null ? '' : String(value), ...attrs }, v)]),
      ),
    ]),
  ]);
}

/** Confusion-matrix figure for counts {tn, fp, fn, tp} at a threshold (display text). */
function cmFigureContent(c, schema, threshold) {
  return [
    h('figcaption', {}, t('cm.title')),
    confusionChart(c, {
      negative: schema.negative,
      positive: schema.positive,
      actualText: t('cm.actual'),
      predictedText: t('cm.predicted'),
      title: t('cm.caption', { threshold }),
    }),
  ];
}

function rocFigureContent(m, point, threshold, ref = null) {
  return [
    h('figcaption', {}, t('roc.title')),
    rocChart(m.roc || [], {
      auc: m.rocAuc,
      point,
      ref,
      title: t('roc.caption', { auc: dec(m.rocAuc) }),
      fprText: t('roc.fpr'),
      tprText: t('roc.tpr'),
      chanceText: t('roc.chance'),
      pointText: t('roc.operating', { threshold }),
      refText: ref ? t('explore.modelPoint', { threshold: num(ref.threshold) }) : null,
    }),
  ];
}

/** PR curve figure: the curve from the ROC points, the operating point (when anyone is refused) and the average precision. */
function prFigureContent(m, pr, point, threshold, idPrefix) {
  const ap = apOf(m, pr);
  // The model's figures come from its file; a batch's from the labelled CSV just scored.
  const batch = idPrefix !== 'model';
  const apLine =
    ap.source === 'file'
      ? t(batch ? 'pr.apBatch' : 'pr.ap', { ap: dec(ap.value) })
      : ap.source === 'curve'
        ? t(batch ? 'pr.apComputedBatch' : 'pr.apComputed', { ap: dec(ap.value), n: pr.length })
        : t('pr.apNone');
  return [
    h('figcaption', {}, t('pr.title')),
    prChart(pr, {
      ap: ap.value,
      apText: t('pr.apShort'),
      baseline: m.rows > 0 ? m.positives / m.rows : null,
      point,
      title: t('pr.caption', { ap: dec(ap.value) }),
      recallText: t('pr.recall'),
      precisionText: t('pr.precision'),
      baselineText: t('pr.baseline'),
      pointText: t('roc.operating', { threshold }),
    }),
    h('p', { class: 'muted small', id: `${idPrefix}-ap`, 'data-value': ap.value == null ? '' : String(ap.value), 'data-source': ap.source }, apLine),
  ];
}

/** The operating point of a metrics object's own confusion matrix. */
function confusionPoint(m) {
  const c = m.confusion;
  return {
    fpr: c.fp + c.tn > 0 ? c.fp / (c.fp + c.tn) : 0,
    tpr: c.tp + c.fn > 0 ? c.tp / (c.tp + c.fn) : 0,
    threshold: m.threshold,
    counts: { tp: c.tp, fn: c.fn, fp: c.fp, tn: c.tn },
    model: true,
  };
}

/** Metrics table, confusion matrix, ROC and PR curves of a metrics object at its own threshold (batch files). */
function qualityBlock(m, schema, idPrefix) {
  const point = confusionPoint(m);
  const threshold = num(m.threshold);
  const pr = prPoints(m.roc, m.rows, m.positives);
  const f = figuresAt(point.counts, m.rows, null);
  const ap = apOf(m, pr);
  return h('div', { class: 'quality-grid' }, [
    h('div', { class: 'q-table' }, metricsTable(m, idPrefix, ap.value == null ? [] : [['metric.ap', dec(ap.value), 'averagePrecision', ap.value]])),
    h('figure', { class: 'q-cm' }, cmFigureContent(m.confusion, schema, threshold)),
    h('figure', { class: 'q-roc', id: `${idPrefix}-roc` }, rocFigureContent(m, point, threshold)),
    h(
      'figure',
      { class: 'q-pr', id: `${idPrefix}-pr` },
      prFigureContent(m, pr, f.precision == null ? null : { recall: f.recall, precision: f.precision }, threshold, idPrefix),
    ),
  ]);
}

// ---------------------------------------------------------------------------
// Decision policy and threshold exploration (the loaded model's stored test metrics)

/** The policy in words. */
function policyText(d) {
  switch (d.kind) {
    case 'fixed':
      return t('policy.kind.fixed', { threshold: num(d.threshold) });
    case 'cost':
      return t('policy.kind.cost', { fn: costText(d.costFn), fp: costText(d.costFp) });
    case 'approval-rate':
      return t('policy.kind.approvalRate', { rate: pctOr(d.targetApprovalRate) });
    case 'max-f1':
      return t('policy.kind.maxF1');
    case 'ks':
      return t('policy.kind.ks');
    default:
      return d.policy || '–';
  }
}

/** Costs fixed by the model's policy ({fn, fp}), or null when the advisor types them. */
function policyCosts(md) {
  const d = md.decision;
  if (d && d.kind === 'cost' && Number.isFinite(d.costFn) && Number.isFinite(d.costFp)) return { fn: d.costFn, fp: d.costFp };
  return null;
}

function parseCost(text) {
  const v = String(text).trim();
  return v === '' ? NaN : Number(v);
}

function currentCosts(cur) {
  return policyCosts(cur.metadata) || { fn: parseCost(state.explore.costFn), fp: parseCost(state.explore.costFp) };
}

/** The threshold policy the file records, or a note that it records none. */
function policyBlock(cur) {
  const md = cur.metadata;
  const d = md.decision;
  const head = h('h3', {}, t('policy.title'));
  if (!d || typeof d !== 'object') {
    return h('div', { class: 'policy', id: 'policy', 'data-policy': 'none' }, [
      head,
      h('p', { id: 'policy-none' }, t('policy.none', { threshold: num(md.threshold) })),
    ]);
  }
  const items = [
    ['rule', 'policy.rule', [h('span', {}, policyText(d)), ' ', h('code', {}, d.policy || '–')], d.policy],
    ['threshold', 'policy.threshold', num(d.threshold), d.threshold],
    ['chosenOn', 'policy.chosenOn', d.chosenOn || '–', d.chosenOn],
    ['approvalRate', 'policy.approvalRate', pctOr(d.approvalRate), d.approvalRate],
    ['badRateApproved', 'policy.badRateApproved', pctOr(d.badRateApproved), d.badRateApproved],
  ];
  if (d.kind === 'cost') items.push(['expectedCost', 'policy.expectedCost', dec(d.expectedCost), d.expectedCost]);
  return h('div', { class: 'policy', id: 'policy', 'data-policy': d.kind || '' }, [
    head,
    h(
      'dl',
      { class: 'model-info policy-info' },
      items.map(([key, label, text, value]) =>
        h('div', { class: key === 'chosenOn' || key === 'rule' ? 'kv wide' : 'kv', 'data-item': key }, [
          h('dt', {}, t(label)),
          h('dd', { 'data-value': value == null ? '' : String(value) }, text),
        ]),
      ),
    ),
  ]);
}

function costInput(id, key, label) {
  const input = h('input', { id, type: 'text', inputmode: 'decimal', spellcheck: 'false', value: state.explore[key], 'aria-describedby': 'explore-note' });
  input.addEventListener('input', () => {
    state.explore[key] = input.value;
    updateExplorer();
  });
  return h('div', { class: 'field cost-field' }, [h('label', { for: id }, label), input]);
}

/** Slider over the operating points, costs, reset, and the figures at the chosen and the model's thresholds. */
function explorerBlock(cur) {
  const n = cur.points.length;
  const md = cur.metadata;
  const fixedCosts = policyCosts(md);
  // Left = lowest threshold (everybody refused), right = highest (nobody refused).
  const slider = h('input', {
    type: 'range',
    id: 'threshold-slider',
    min: 0,
    max: n - 1,
    step: 1,
    value: n - 1 - state.explore.position,
  });
  slider.addEventListener('input', () => {
    state.explore.position = n - 1 - Number(slider.value);
    updateExplorer();
  });
  const reset = h('button', { type: 'button', id: 'threshold-reset', class: 'button secondary' }, t('explore.reset'));
  reset.addEventListener('click', () => {
    state.explore.position = cur.modelPosition;
    slider.value = String(n - 1 - cur.modelPosition);
    updateExplorer();
  });
  const costs = fixedCosts
    ? h('p', { class: 'small', id: 'explore-costs', 'data-source': 'policy' }, t('explore.policyCosts', { fn: costText(fixedCosts.fn), fp: costText(fixedCosts.fp) }))
    : h('div', { class: 'costs', id: 'explore-costs', 'data-source': 'inputs' }, [
        costInput('cost-fn', 'costFn', t('explore.costFn')),
        costInput('cost-fp', 'costFp', t('explore.costFp')),
      ]);
  return h('div', { class: 'explorer', id: 'explorer' }, [
    h('h3', {}, t('explore.title')),
    h('p', { class: 'help', id: 'explore-note' }, t('explore.note', { threshold: num(md.threshold), n: fmtInt(cur.metrics.rows) })),
    h('div', { class: 'explore-controls' }, [
      h('div', { class: 'slider-field' }, [
        h('label', { for: 'threshold-slider' }, t('explore.slider')),
        slider,
        h('div', { class: 'slider-ends', 'aria-hidden': 'true' }, [h('span', {}, t('explore.refuseMore')), h('span', {}, t('explore.approveMore'))]),
        h('output', { id: 'threshold-readout', for: 'threshold-slider' }),
      ]),
      costs,
      h('div', { class: 'reset-field' }, reset),
    ]),
    h('div', { class: 'table-scroll tradeoff-wrap' }, h('table', { class: 'metrics tradeoff', id: 'tradeoff' }, [
      h('thead', {}, h('tr', {}, [
        h('th', { scope: 'col' }, t('explore.figure')),
        h('th', { scope: 'col' }, t('explore.selected')),
        h('th', { scope: 'col' }, t('explore.atModel')),
      ])),
      h('tbody', { id: 'tradeoff-body' }),
    ])),
  ]);
}

/** Redraws what depends on the explored threshold: readout, figures, confusion matrix, ROC and PR marks. */
function updateExplorer() {
  const cur = state.current;
  const m = cur?.metrics;
  if (!m || !document.getElementById('model-cm')) return;
  const own = cur.points[cur.modelPosition] ?? confusionPoint(m);
  const sel = cur.points[state.explore.position] ?? own;
  const costs = currentCosts(cur);
  const fs = figuresAt(sel.counts, m.rows, costs);
  const fo = figuresAt(own.counts, m.rows, costs);
  const thr = thresholdText(sel.threshold);

  const readout = $('threshold-readout');
  if (readout) {
    readout.textContent = sel.model ? t('explore.readoutModel', { threshold: thr }) : t('explore.readout', { threshold: thr });
    readout.dataset.threshold = Number.isFinite(sel.threshold) ? f32Text(sel.threshold) : 'Infinity';
    readout.dataset.model = String(sel.model);
    $('threshold-slider').setAttribute(
      'aria-valuetext',
      t('explore.valuetext', { threshold: thr, approval: pctOr(fs.approvalRate), bad: pctOr(fs.badRateApproved) }),
    );
  }
  for (const [id, key] of [['cost-fn', 'fn'], ['cost-fp', 'fp']]) {
    const input = $(id);
    if (!input) continue;
    const bad = !(Number.isFinite(costs[key]) && costs[key] >= 0);
    if (bad) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    input.closest('.field').classList.toggle('invalid', bad);
  }
  const body = $('tradeoff-body');
  if (body) {
    const share = (f, part, whole) => (Number.isFinite(f) ? `${pct(f)} (${fmtInt(part)} / ${fmtInt(whole)})` : '–');
    const rows = [
      ['threshold', 'explore.threshold', thr, thresholdText(own.threshold), sel.threshold, own.threshold],
      ['approvalRate', 'explore.approvalRate', share(fs.approvalRate, fs.approved, m.rows), share(fo.approvalRate, fo.approved, m.rows), fs.approvalRate, fo.approvalRate],
      ['badRateApproved', 'explore.badRateApproved', share(fs.badRateApproved, sel.counts.fn, fs.approved), share(fo.badRateApproved, own.counts.fn, fo.approved), fs.badRateApproved, fo.badRateApproved],
      ['expectedCost', 'explore.expectedCost', dec(fs.expectedCost), dec(fo.expectedCost), fs.expectedCost, fo.expectedCost],
      ['precision', 'metric.precision', dec(fs.precision), dec(fo.precision), fs.precision, fo.precision],
      ['recall', 'metric.recall', dec(fs.recall), dec(fo.recall), fs.recall, fo.recall],
    ];
    const v = (x) => (x == null || Number.isNaN(x) ? '' : Number.isFinite(x) ? String(x) : 'Infinity');
    fill(
      body,
      ...rows.map(([key, label, a, b, va, vb]) =>
        h('tr', { 'data-figure': key }, [
          h('th', { scope: 'row' }, key === 'expectedCost' ? t(label, { fn: costText(costs.fn), fp: costText(costs.fp) }) : t(label)),
          h('td', { class: 'sel', 'data-value': v(va) }, a),
          h('td', { class: 'own', 'data-value': v(vb) }, b),
        ]),
      ),
    );
  }
  const c = sel.counts;
  fill($('model-cm'), ...cmFigureContent({ tn: c.tn, fp: c.fp, fn: c.fn, tp: c.tp }, cur.schema, thr));
  $('model-cm').dataset.threshold = readout?.dataset.threshold ?? '';
  fill($('model-roc'), ...rocFigureContent(m, sel, thr, sel.model ? null : own));
  fill(
    $('model-pr'),
    ...prFigureContent(m, cur.pr, fs.precision == null ? null : { recall: fs.recall, precision: fs.precision }, thr, 'model'),
  );
}

/** Reliability diagram of the stored test metrics, or a note that the file has none. */
function reliabilityBlock(m, md) {
  const bins = Array.isArray(m.reliability) ? m.reliability : [];
  const head = h('h3', {}, t('rel.title'));
  const cal = md.calibration && md.calibration.method ? t('rel.calibration', { method: md.calibration.method, chosenBy: md.calibration.chosenBy || '–' }) : null;
  if (!bins.length) {
    return h('div', { class: 'reliability' }, [head, h('p', { class: 'muted', id: 'reliability-none' }, t('rel.none')), cal ? h('p', { class: 'muted small' }, cal) : null]);
  }
  const caption = t('rel.caption', { ece: dec(m.ece), brier: dec(m.brier), bins: bins.length });
  return h('div', { class: 'reliability' }, [
    head,
    h('figure', { class: 'q-rel', id: 'model-reliability', 'data-ece': m.ece == null ? '' : String(m.ece) }, [
      reliabilityChart(bins, {
        title: caption,
        predictedText: t('rel.predicted'),
        observedText: t('rel.observed'),
        perfectText: t('rel.perfect'),
        binText: (b, i) => t('rel.bin', { k: i + 1, predicted: pct(b.meanPredicted), observed: pct(b.observed), rows: fmtInt(b.rows) }),
      }),
      h('figcaption', { id: 'reliability-caption' }, caption),
      cal ? h('p', { class: 'muted small' }, cal) : null,
    ]),
  ]);
}

// Governance: the fair-lending audit, proxies and monotone constraints the
// file records (metadata.governance; null for files trained without them).

/** One protected attribute's table, a warning on each group below the four-fifths rule. */
function fairnessTable(p) {
  const cols = ['group', 'rows', 'bad', 'approval', 'ratio', 'tpr', 'fpr', 'auc', 'meanP', 'observed'];
  return h('table', { class: 'metrics fairness', 'data-protected': p.name }, [
    h('caption', {}, t(p.input ? 'fair.captionInput' : 'fair.captionExcluded', { name: featureLabel(p.name), bands: p.bands ? ` (${p.bands})` : '' })),
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col' }, t(`fair.col.${c}`))))),
    h(
      'tbody',
      {},
      p.groups.map((g) => {
        const low = g.impactRatio < 0.8;
        return h('tr', { 'data-group': g.name, 'data-ratio': String(g.impactRatio), class: low ? 'adverse' : '' }, [
          h('th', { scope: 'row' }, [g.name, low ? h('span', { class: 'fair-warn' }, ` ⚠ ${t('fair.adverse')}`) : null]),
          h('td', {}, fmtInt(g.rows)),
          h('td', {}, fmtInt(g.positives)),
          h('td', {}, pct(g.approvalRate)),
          h('td', { class: 'ratio' }, dec(g.impactRatio)),
          h('td', {}, dec(g.tpr)),
          h('td', {}, dec(g.fpr)),
          h('td', {}, g.auc == null ? '–' : dec(g.auc)),
          h('td', {}, pct(g.meanPredicted)),
          h('td', {}, pct(g.observed)),
        ]);
      }),
    ),
  ]);
}

function governanceBlock(cur) {
  const g = cur.metadata.governance;
  if (!g || typeof g !== 'object') return null;
  const parts = [h('h3', {}, t('fair.title'))];
  if (g.protected.length) parts.push(h('p', { class: 'help' }, t('fair.on', { on: g.evaluatedOn })));
  for (const p of g.protected) {
    parts.push(h('div', { class: 'table-scroll' }, fairnessTable(p)));
    parts.push(
      h('p', { class: 'small', 'data-gaps': p.name }, t('fair.gaps', { ratio: dec(p.minImpactRatio), tpr: dec(p.tprGap), fpr: dec(p.fprGap) })),
    );
    const px = g.proxies.filter((x) => x.protected === p.name).sort((a, b) => b.auc - a.auc).slice(0, 5);
    if (px.length) {
      parts.push(
        h('p', { class: 'small proxies', 'data-proxies': p.name }, [
          t('fair.proxies'),
          ' ',
          ...px.flatMap((x, i) => [
            i ? ', ' : '',
            x.flagged ? h('strong', { 'data-flagged': x.feature }, `${featureLabel(x.feature)} ${dec(x.auc)} ⚑`) : `${featureLabel(x.feature)} ${dec(x.auc)}`,
          ]),
        ]),
      );
    }
  }
  if (g.monotone.length) {
    parts.push(
      h(
        'ul',
        { class: 'small', id: 'monotone' },
        g.monotone.map((m) =>
          h(
            'li',
            { 'data-feature': m.feature },
            t(m.enforced ? 'fair.monoEnforced' : 'fair.monoChecked', { name: featureLabel(m.feature), dir: m.direction > 0 ? '+1' : '−1', rows: fmtInt(m.rows), bad: fmtInt(m.violations) }),
          ),
        ),
      ),
    );
  }
  return h('div', { class: 'policy governance', id: 'fairness' }, parts);
}

function renderQuality() {
  const body = $('quality-body');
  const cur = state.current;
  if (!cur) {
    fill(body);
    return;
  }
  const m = cur.metrics;
  if (!m) {
    fill(body, policyBlock(cur), governanceBlock(cur), h('p', { class: 'muted' }, t('quality.none')));
    return;
  }
  const own = cur.points[cur.modelPosition] ?? confusionPoint(m);
  const ap = apOf(m, cur.pr);
  const extra = [];
  if (ap.value != null) extra.push(['metric.ap', ap.source === 'curve' ? `${dec(ap.value)}*` : dec(ap.value), 'averagePrecision', ap.value, { 'data-source': ap.source }]);
  if (Number.isFinite(m.ece)) extra.push(['metric.ece', dec(m.ece), 'ece', m.ece]);
  const on = m.evaluatedOn
    ? t('quality.evaluatedOn', { on: m.evaluatedOn, positives: fmtInt(m.positives), positive: cur.schema.positive })
    : t('quality.on', { rows: fmtInt(m.rows), positives: fmtInt(m.positives), positive: cur.schema.positive, train: m.trainRows == null ? '–' : fmtInt(m.trainRows) });
  fill(
    body,
    h('p', { class: 'help', id: 'quality-on' }, on),
    policyBlock(cur),
    governanceBlock(cur),
    cur.points.length ? explorerBlock(cur) : null,
    h('div', { class: 'quality-grid' }, [
      h('div', { class: 'q-table' }, [
        metricsTable(m, 'model', extra, t('quality.atModel', { threshold: thresholdText(own.threshold) })),
        ap.source === 'curve' ? h('p', { class: 'muted small' }, t('quality.apNote')) : null,
      ]),
      h('figure', { class: 'q-cm', id: 'model-cm' }),
      h('figure', { class: 'q-roc', id: 'model-roc' }),
      h('figure', { class: 'q-pr', id: 'model-pr' }),
    ]),
    reliabilityBlock(m, cur.metadata),
  );
  updateExplorer();
}

// ---------------------------------------------------------------------------
// Batch scoring (in the npm package's module worker: createScorer with
// {worker: true} and predictCsvFile; one worker per selected model)

/** Releases the batch worker (its scorer). */
function freeWorker() {
  if (state.worker) {
    const w = state.worker;
    state.worker = null;
    w.then((scorer) => scorer.free()).catch(() => undefined);
  }
}

/** Ends the running batch (if any) and the batch worker. */
function stopWorker() {
  state.batchAbort?.abort();
  state.batchAbort = null;
  freeWorker();
}

/** The selected model's scorer in the package's worker (made once per model). */
function batchScorer(cur) {
  if (!state.worker || state.workerModel !== cur) {
    freeWorker();
    state.workerModel = cur;
    const made = createScorer(cur.bytes.slice(), { worker: true });
    state.worker = made;
    // A worker that failed to start is made again for the next batch.
    made.catch(() => {
      if (state.worker === made) state.worker = null;
    });
  }
  return state.worker;
}

async function startBatch(file) {
  const cur = state.current;
  if (!cur || !file) return;
  state.batchAbort?.abort();
  const controller = new AbortController();
  state.batchAbort = controller;
  const prev = state.batch;
  if (prev?.url) URL.revokeObjectURL(prev.url);
  const b = { name: file.name, phase: 'reading', done: 0, total: 0 };
  state.batch = b;
  renderBatch();
  const current = () => state.batch === b && !controller.signal.aborted;
  try {
    const scorer = await batchScorer(cur);
    const result = await scorer.predictCsvFile(file, {
      signal: controller.signal,
      onProgress: (done, total, rows) => {
        if (!current()) return;
        Object.assign(b, { phase: 'scoring', done, total, scoredRows: rows });
        renderBatch();
      },
    });
    if (!current()) return;
    Object.assign(b, result, { phase: 'done', url: URL.createObjectURL(result.blob) });
  } catch (e) {
    if (!current()) return;
    Object.assign(b, { phase: 'error', message: e && e.message ? e.message : String(e) });
  } finally {
    if (state.batchAbort === controller) state.batchAbort = null;
  }
  renderBatch();
}

function cancelBatch() {
  const b = state.batch;
  if (!b || !(b.phase === 'reading' || b.phase === 'scoring')) return;
  state.batchAbort?.abort();
  state.batchAbort = null;
  b.phase = 'cancelled';
  renderBatch();
}

function renderBatch() {
  const cur = state.current;
  $('batch-help').textContent = cur ? t('batch.help', { label: cur.schema.label }) : t('form.noModel');
  const b = state.batch;
  const running = b && (b.phase === 'reading' || b.phase === 'scoring');
  $('batch-cancel').hidden = !running;
  const dl = $('batch-download');
  dl.hidden = !(b && b.phase === 'done');
  if (b?.url) {
    dl.href = b.url;
    dl.download = `${b.name.replace(/\.(csv|txt)$/i, '')}-scored.csv`;
  }
  const wrap = $('batch-progress-wrap');
  wrap.hidden = !running;
  const prog = $('batch-progress');
  if (running) {
    if (b.total > 0) {
      // Progress in bytes of the file read; the row count is known as it goes.
      prog.max = b.total;
      prog.value = b.done;
      const percent = Math.floor((100 * b.done) / b.total);
      $('batch-progress-text').textContent = t('batch.progress', { rows: fmtInt(b.scoredRows || 0), percent });
    } else {
      prog.removeAttribute('value');
      $('batch-progress-text').textContent = t('batch.reading', { name: b.name });
    }
  }
  const status = $('batch-status');
  status.className = 'status';
  const body = $('batch-body');
  if (!b || running) {
    status.textContent = '';
    fill(body);
    return;
  }
  if (b.phase === 'cancelled') {
    status.textContent = t('batch.cancelled');
    fill(body);
    return;
  }
  if (b.phase === 'error') {
    status.textContent = t('batch.error', { name: b.name, message: b.message });
    status.className = 'status error';
    fill(body);
    return;
  }
  status.textContent = t('batch.done', { rows: fmtInt(b.rows), name: b.name, seconds: b.seconds.toFixed(2) });
  const parts = [];
  if (b.errorCount > 0) {
    parts.push(
      h('div', { class: 'notice' }, [
        h('p', {}, t('batch.failedRows', { n: fmtInt(b.errorCount) })),
        h('ul', { class: 'errors' }, b.errors.slice(0, 5).map((e) => h('li', {}, `${t('col.row')} ${e.line}: ${e.message}`))),
      ]),
    );
  }
  const labelled = b.labelColumn >= 0;
  const head = [t('col.row'), t('col.probability'), t('col.decision')];
  if (labelled) head.push(t('col.actual'));
  head.push(t('col.note'));
  const s = cur.schema;
  const table = h('table', { class: 'preview', id: 'batch-table' }, [
    h('caption', {}, t('batch.preview', { n: fmtInt(b.preview.length), total: fmtInt(b.rows) })),
    h('thead', {}, h('tr', {}, head.map((x) => h('th', { scope: 'col' }, x)))),
    h(
      'tbody',
      {},
      b.preview.map((r) => {
        const cells = [
          h('td', {}, String(r.line)),
          h('td', { class: 'num', 'data-probability': r.probability }, r.probability === '' ? '–' : pct(Number(r.probability))),
          h('td', { class: r.decision === null ? '' : r.decision ? 'pos' : 'neg' }, r.decision === null ? '–' : r.decision ? s.positive : s.negative),
        ];
        if (labelled) cells.push(h('td', {}, r.actual));
        cells.push(h('td', { class: 'note' }, r.error || ''));
        return h('tr', {}, cells);
      }),
    ),
  ]);
  parts.push(h('div', { class: 'table-scroll' }, table));
  if (labelled) {
    parts.push(h('h3', {}, t('batch.metricsTitle')));
    if (b.metrics) {
      if (b.skippedLabels > 0) parts.push(h('p', { class: 'muted' }, t('batch.skippedLabels', { n: fmtInt(b.skippedLabels) })));
      parts.push(h('p', { class: 'help' }, t('quality.onFile', { rows: fmtInt(b.metrics.rows), positives: fmtInt(b.metrics.positives), positive: s.positive })));
      parts.push(qualityBlock(b.metrics, s, 'batch'));
    } else {
      parts.push(h('p', { class: 'muted' }, b.metricsError || t('batch.oneClass')));
    }
  } else {
    parts.push(h('p', { class: 'muted' }, t('batch.unlabelled', { label: s.label })));
  }
  if (b.drift) parts.push(driftBlock(b.drift));
  fill(body, ...parts);
}

// Population stability of the batch against the training population.
function driftBlock(d) {
  const rows = [{ feature: t('batch.psiScore'), psi: d.score.psi, level: d.score.level, id: 'score' }].concat(
    d.features.slice().sort((a, b) => b.psi - a.psi).map((f) => ({ feature: featureLabel(f.feature), psi: f.psi, level: f.level, id: f.feature })),
  );
  return h('div', { class: 'drift' }, [
    h('h3', {}, t('batch.psiTitle')),
    h('p', { class: 'help' }, t('batch.psiHelp')),
    h('div', { class: 'table-scroll' }, h('table', { class: 'preview', id: 'psi-table' }, [
      h('thead', {}, h('tr', {}, [t('batch.psiFeature'), 'PSI', t('batch.psiLevel')].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, rows.map((r) => h('tr', { class: `psi-${r.level}`, 'data-psi': r.id }, [
        h('td', {}, r.feature),
        h('td', { class: 'num' }, r.psi.toFixed(3)),
        h('td', {}, t(`batch.level.${r.level}`)),
      ]))),
    ])),
  ]);
}

// ---------------------------------------------------------------------------
// Language, events, start-up

function renderAll() {
  translatePage();
  renderModelPicker();
  renderModelStatus();
  renderModelInfo();
  const values = state.current ? readForm() : null;
  renderForm(values && Object.keys(values).length ? values : null);
  if (state.current) {
    // Re-run validation so messages appear in the new language.
    if (state.formError || state.result) scoreNow();
  }
  renderResult();
  renderQuality();
  renderBatch();
}

function initialLanguage() {
  try {
    const saved = localStorage.getItem('ferrisk.lang');
    if (saved) return saved;
  } catch {
    // No storage: use the browser's language.
  }
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

function wireEvents() {
  $('lang').addEventListener('change', (e) => {
    setLanguage(e.target.value);
    try {
      localStorage.setItem('ferrisk.lang', language());
    } catch {
      // Not remembered without storage.
    }
    renderAll();
  });
  $('model-select').addEventListener('change', (e) => selectModel(e.target.value));
  $('model-file').addEventListener('change', (e) => {
    openModelFile(e.target.files?.[0]);
    e.target.value = '';
  });
  const zone = $('model-section');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', (e) => {
    if (!zone.contains(e.relatedTarget)) zone.classList.remove('dragging');
  });
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('dragging');
    openModelFile(e.dataTransfer?.files?.[0]);
  });
  let timer = 0;
  const form = $('customer-form');
  form.addEventListener('input', () => {
    updateSparklines();
    clearTimeout(timer);
    timer = setTimeout(scoreNow, 120);
  });
  form.addEventListener('change', () => {
    clearTimeout(timer);
    scoreNow();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(timer);
    scoreNow();
    $('result').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  });
  $('reset').addEventListener('click', () => {
    renderForm(null);
    scoreNow();
  });
  $('batch-file').addEventListener('change', (e) => {
    startBatch(e.target.files?.[0]);
    // Choosing the same file again (e.g. for another model) starts a new run.
    e.target.value = '';
  });
  $('batch-cancel').addEventListener('click', cancelBatch);
}

function registerServiceWorker() {
  if (!('serviceWorker' in navigator) || !window.isSecureContext) return;
  navigator.serviceWorker
    .register(new URL('./sw.js', import.meta.url), { scope: './' })
    .then(() => navigator.serviceWorker.ready)
    .then(() => {
      $('offline-status').dataset.i18n = 'offline.ready';
      $('offline-status').textContent = t('offline.ready');
    })
    .catch(() => {
      // Offline use is a bonus; the page works without it.
    });
}

async function main() {
  $('lang').value = setLanguage(initialLanguage());
  translatePage();
  wireEvents();
  renderForm(null);
  renderResult();
  renderBatch();
  try {
    await ready();
  } catch (e) {
    setModelStatus('model.wasmFailed', { message: errorText(e) }, 'error');
    return;
  }
  await loadModelList();
  renderModelPicker();
  renderModelStatus();
  let saved = null;
  try {
    saved = localStorage.getItem('ferrisk.model');
  } catch {
    saved = null;
  }
  const first =
    state.models.find((m) => m.key === saved) ||
    state.models.find((m) => m.kind === 'lr' || m.id === 'lr') ||
    state.models[0];
  if (first) await selectModel(first.key);
  document.body.dataset.ready = 'true';
  registerServiceWorker();
}

main();
