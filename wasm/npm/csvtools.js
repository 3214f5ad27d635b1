// Output helpers of the npm package (csvfile.js; the page imports them from
// pkg/csvtools.js). Reading CSV (quotes,
// line breaks in fields, BOM, `,` `;` or tab, broken records) and scoring
// are the wasm runtime's (`CsvSession`); these helpers only write the scored
// file the way `ferrisk predict` writes it: fields quoted when needed, and
// probabilities in Rust's `{:?}` form for an f32.

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
