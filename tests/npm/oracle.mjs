// The native CLI's answers for the npm package tests (the oracle): the
// probabilities `ferrisk predict` wrote, the `explain --json` of the fixed
// customer, and the customers of the data file as a portal holds them
// (objects of the CSV's cells, as text).
import fs from 'node:fs';
import { createHash } from 'node:crypto';

/** Splits one CSV line (quoted fields with "" escapes; no line breaks
 *  inside fields in these files). */
function cells(line) {
  const out = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i += 1) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function table(text) {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = cells(lines[0]);
  const rows = lines.slice(1).map(cells);
  for (const [i, r] of rows.entries()) {
    if (r.length !== header.length) throw new Error(`oracle: line ${i + 2} has ${r.length} cells, not ${header.length}`);
  }
  return { header, rows };
}

export function load(fix) {
  const data = fs.readFileSync(`${fix}/data.csv`, 'utf8');
  const { header, rows } = table(data);
  const customers = rows.map((cells) => Object.fromEntries(header.map((h, i) => [h, cells[i]])));
  const pred = table(fs.readFileSync(`${fix}/model.pred.csv`, 'utf8'));
  const col = pred.header.indexOf('probability');
  const cli = pred.rows.map((r) => Math.fround(Number(r[col])));
  const model = fs.readFileSync(`${fix}/model.frk`);
  const lines = data.split(/\r?\n/);
  return {
    header,
    customers,
    cli,
    model,
    sha256: createHash('sha256').update(model).digest('hex'),
    customer: JSON.parse(fs.readFileSync(`${fix}/customer.json`, 'utf8')),
    explain: JSON.parse(fs.readFileSync(`${fix}/model.explain.json`, 'utf8')),
    // Line 3 starts with a stray quote after one character: CSV_ROW, line 3, column 2.
    strayQuoteCsv: [lines[0], lines[1], `a"b${lines[2]}`, lines[3]].join('\n'),
  };
}

/** Asserts two JSON values equal, numbers compared as f32. */
export function sameJson(path, got, want) {
  if (typeof want === 'number') {
    if (Math.fround(got) !== Math.fround(want)) throw new Error(`${path}: ${got} != ${want}`);
  } else if (want === null || typeof want !== 'object') {
    if (got !== want) throw new Error(`${path}: ${JSON.stringify(got)} != ${JSON.stringify(want)}`);
  } else {
    if (got === null || typeof got !== 'object') throw new Error(`${path}: ${JSON.stringify(got)} is not an object`);
    const keys = new Set([...Object.keys(want), ...Object.keys(got)]);
    for (const k of keys) sameJson(`${path}.${k}`, got[k], want[k]);
  }
}
