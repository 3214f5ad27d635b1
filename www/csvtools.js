// CSV helpers for the page and the batch worker. The scoring itself, and
// the parsing of every value, is done by the wasm runtime; these helpers only
// cut a large file into record-aligned chunks (so progress can be shown),
// pick the label column, and format numbers. Their rules follow the
// runtime's reader (src/csv.rs): RFC 4180 quotes, `,` `;` or tab chosen from
// the header, LF or CRLF, a leading BOM, blank lines skipped.

/** The most frequent of `,` `;` tab outside quotes in the header; `,` if none. */
export function detectDelimiter(header) {
  const counts = { ',': 0, ';': 0, '\t': 0 };
  let inQuotes = false;
  for (const c of header) {
    if (c === '"') inQuotes = !inQuotes;
    else if (!inQuotes && c in counts) counts[c] += 1;
  }
  let best = ',';
  for (const d of [';', '\t']) if (counts[d] > counts[best]) best = d;
  return best;
}

/**
 * Finds the records of a CSV text. Returns {header: {start, end}, starts,
 * ends, lines, count}: for each data record its [start, end) offsets in the
 * text (end before the line break) and the 1-based physical line where it
 * starts. A line break inside quotes does not end a record; blank lines are
 * skipped, as the runtime's reader does.
 */
export function findRecords(text) {
  const n = text.length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let cap = 1024;
  let starts = new Uint32Array(cap);
  let ends = new Uint32Array(cap);
  let lines = new Uint32Array(cap);
  let count = 0;
  let header = null;
  while (pos < n) {
    const startLine = line;
    const start = pos;
    let inQuotes = false;
    let end;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      const lineEnd = nl === -1 ? n : nl;
      let q = text.indexOf('"', pos);
      while (q !== -1 && q < lineEnd) {
        inQuotes = !inQuotes;
        q = text.indexOf('"', q + 1);
      }
      pos = nl === -1 ? n : nl + 1;
      if (nl !== -1) line += 1;
      if (!inQuotes || nl === -1) {
        end = lineEnd;
        break;
      }
    }
    let e = end;
    if (e > start && text.charCodeAt(e - 1) === 13) e -= 1;
    if (text.slice(start, e).trim() === '') continue;
    if (header === null) {
      header = { start, end: e, line: startLine };
      continue;
    }
    if (count === cap) {
      cap *= 2;
      const grow = (a) => {
        const b = new Uint32Array(cap);
        b.set(a);
        return b;
      };
      starts = grow(starts);
      ends = grow(ends);
      lines = grow(lines);
    }
    starts[count] = start;
    ends[count] = e;
    lines[count] = startLine;
    count += 1;
  }
  return { header, starts, ends, lines, count };
}

/** Splits one record into fields (quotes removed, `""` unescaped). */
export function splitFields(record, delim) {
  const fields = [];
  let field = '';
  let inQuotes = false;
  let afterQuote = false;
  for (let i = 0; i < record.length; i += 1) {
    const c = record[i];
    if (inQuotes) {
      if (c === '"') {
        inQuotes = false;
        afterQuote = true;
      } else {
        field += c;
      }
    } else if (c === delim) {
      fields.push(field);
      field = '';
      afterQuote = false;
    } else if (c === '"') {
      if (afterQuote) field += '"';
      else field = '';
      inQuotes = true;
      afterQuote = false;
    } else if (!afterQuote) {
      field += c;
    }
  }
  fields.push(field);
  return fields;
}

/** Quotes a field for CSV output when it needs it. */
export function quoteField(value, delim = ',') {
  const s = String(value);
  if (s.includes('"') || s.includes(delim) || s.includes('\n') || s.includes('\r')) {
    return `"${s.replace(/"/g, '""')}"`;
  }
  return s;
}

// Rust switches to exponent notation by comparing in f32.
const SMALL = Math.fround(1e-4);
const LARGE = Math.fround(1e16);

/** Shortest digits of an f32: {sign, digits, exp} with value = 0.digits × 10^exp. */
function shortestDigits(x) {
  let s = x.toExponential(8);
  for (let p = 1; p <= 9; p += 1) {
    const t = x.toPrecision(p);
    if (Math.fround(Number(t)) === x) {
      s = Number(t).toExponential();
      break;
    }
  }
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  const digits = `${m[2]}${m[3] || ''}`.replace(/0+$/, '') || '0';
  return { sign: m[1], digits, exp: Number(m[4]) + 1 };
}

/**
 * The shortest text that reads back as the same f32, written the way Rust's
 * `{:?}` writes an f32 (the CLI's probability column): `0.25`, `1.0`, and
 * exponent notation below 1e-4 or from 1e16 (`1.5e-7`). `x` must be an f32 value.
 */
export function f32Text(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const { sign, digits, exp } = shortestDigits(x);
  const abs = Math.abs(x);
  if (abs < SMALL || abs >= LARGE) {
    const frac = digits.slice(1);
    return `${sign}${digits[0]}${frac ? `.${frac}` : ''}e${exp - 1}`;
  }
  if (exp <= 0) return `${sign}0.${'0'.repeat(-exp)}${digits}`;
  if (exp >= digits.length) return `${sign}${digits}${'0'.repeat(exp - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp)}.${digits.slice(exp)}`;
}
