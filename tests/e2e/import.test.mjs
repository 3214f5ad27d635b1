// Models imported from XGBoost and LightGBM (tests/import/, `ferrisk import`)
// open in the advisor page like any model file: the page scores the form's
// customer exactly as `ferrisk predict` does and shows its explanation.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { assertClean, assertSameF32, cfg, cliPredictOne, launch, openPage, readForm, screenshot, waitForProbability } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

describe('imported models', () => {
  for (const name of ['lgb-bank-categorical', 'xgb-german-onehot', 'lgb-bank-rf-onehot']) {
    test(`${name}.frk opens and scores as the native CLI`, async () => {
      const file = path.join(cfg.root, 'tests/import', `${name}.frk`);
      const s = await openPage(browser);
      const first = await waitForProbability(s.page);
      await s.page.locator('#model-file').setInputFiles(file);
      await s.page.waitForFunction(() => document.querySelector('#model-select').selectedOptions[0]?.textContent.includes('your file'));
      const shown = await waitForProbability(s.page, first);
      const native = cliPredictOne(file, await readForm(s.page));
      assertSameF32(shown, native.probability, `${name} probability`);
      const bars = await s.page.locator('#reasons').textContent();
      assert.ok(bars.trim().length > 0, 'the explanation is shown');
      await screenshot(s.page, `import-${name}`, { fullPage: true });
      assertClean(s);
      await s.context.close();
    });
  }
});
