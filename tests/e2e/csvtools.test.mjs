// Unit tests of www/csvtools.js (no browser): record finding and field
// splitting follow RFC 4180 as the runtime's reader does, and f32Text writes
// exactly what Rust's `{:?}` writes for an f32 (checked against rustc itself).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { detectDelimiter, f32Text, findRecords, quoteField, splitFields } from '../../www/csvtools.js';

function records(text) {
  const r = findRecords(text);
  const out = [];
  for (let i = 0; i < r.count; i += 1) out.push({ text: text.slice(r.starts[i], r.ends[i]), line: r.lines[i] });
  return { header: r.header && text.slice(r.header.start, r.header.end), rows: out };
}

describe('csvtools', () => {
  test('records: BOM, CRLF, blank lines, and line breaks inside quotes', () => {
    const text = '\ufeffa,b\r\n1,"two\r\nlines"\r\n\r\n  \n3,"x ""q"""\n4,5';
    const { header, rows } = records(text);
    assert.equal(header, 'a,b');
    assert.deepEqual(
      rows.map((r) => r.line),
      [2, 6, 7],
    );
    assert.deepEqual(splitFields(rows[0].text, ','), ['1', 'two\r\nlines']);
    assert.deepEqual(splitFields(rows[1].text, ','), ['3', 'x "q"']);
    assert.deepEqual(splitFields(rows[2].text, ','), ['4', '5']);
  });

  test('records grow past the initial capacity', () => {
    const n = 5000;
    const text = `h\n${Array.from({ length: n }, (_, i) => String(i)).join('\n')}\n`;
    const r = findRecords(text);
    assert.equal(r.count, n);
    assert.equal(text.slice(r.starts[n - 1], r.ends[n - 1]), String(n - 1));
    assert.equal(r.lines[n - 1], n + 1);
  });

  test('delimiter detection ignores quoted delimiters', () => {
    assert.equal(detectDelimiter('a;b;"c,d,e"'), ';');
    assert.equal(detectDelimiter('a\tb\tc'), '\t');
    assert.equal(detectDelimiter('a,b'), ',');
    assert.equal(detectDelimiter('single'), ',');
  });

  test('quoteField round-trips through splitFields', () => {
    const values = ['plain', 'with,comma', 'with "quote"', 'two\nlines', ''];
    const line = values.map((v) => quoteField(v)).join(',');
    assert.deepEqual(splitFields(line, ','), values);
  });

  test('f32Text writes what Rust {:?} writes for f32', () => {
    // Deterministic sample of f32 bit patterns: probabilities, tiny and huge values.
    const values = [0, 1, 0.5, 1e-4, 1e16, 0.1, 100, -2.5, 3.4e38, 7e-45].map(Math.fround);
    let seed = 12345;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    const buf = new DataView(new ArrayBuffer(4));
    while (values.length < 3000) {
      const kind = values.length % 3;
      let x;
      if (kind === 0) x = Math.fround(next() / 2 ** 32);
      else if (kind === 1) x = Math.fround((next() / 2 ** 32) * 1e-3);
      else {
        buf.setUint32(0, next());
        x = buf.getFloat32(0);
        if (!Number.isFinite(x)) continue;
      }
      values.push(x);
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferrisk-f32-'));
    try {
      const src = path.join(dir, 'f.rs');
      fs.writeFileSync(
        src,
        'use std::io::Read;\nfn main() { let mut s = String::new(); std::io::stdin().read_to_string(&mut s).unwrap();\n' +
          'for t in s.split_whitespace() { let b = u32::from_str_radix(t, 16).unwrap(); println!("{:?}", f32::from_bits(b)); } }\n',
      );
      const exe = path.join(dir, 'f');
      execFileSync('rustc', ['-O', '-o', exe, src], { stdio: 'pipe' });
      const bits = values.map((x) => {
        buf.setFloat32(0, x);
        return buf.getUint32(0).toString(16);
      });
      const rust = execFileSync(exe, { input: bits.join('\n'), encoding: 'utf8' }).trim().split('\n');
      assert.equal(rust.length, values.length);
      values.forEach((x, i) => assert.equal(f32Text(x), rust[i], `bits ${bits[i]}`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
