// Unit tests of wasm/npm/csvtools.js (the npm package's output helpers, also
// the page's; no browser): quoteField quotes as the CLI's CSV writer does, and f32Text writes exactly what Rust's `{:?}` writes for
// an f32 (checked against rustc itself). Reading CSV is the wasm runtime's.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { f32Text, quoteField } from '../../wasm/npm/csvtools.js';

describe('csvtools', () => {
  test('quoteField quotes what `ferrisk predict` quotes', () => {
    assert.equal(quoteField('plain'), 'plain');
    assert.equal(quoteField(''), '');
    assert.equal(quoteField('with,comma'), '"with,comma"');
    assert.equal(quoteField('with "quote"'), '"with ""quote"""');
    assert.equal(quoteField('two\nlines'), '"two\nlines"');
    assert.equal(quoteField('cr\r'), '"cr\r"');
    assert.equal(quoteField('a;b', ';'), '"a;b"');
    assert.equal(quoteField(1.5), '1.5');
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
