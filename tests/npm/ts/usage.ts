// The npm package's types as a portal uses them: `tsc --strict --noEmit`
// in the sample app against the installed tarball (scripts/test-npm.sh).
// Never run. Each `@ts-expect-error` line must fail to compile (else tsc
// reports the unused directive): results are typed, and kinds, units and
// codes are string-literal unions.
import { createScorer, FerriskError, ready, Scorer } from 'ferrisk';
import type {
  AsyncScorer,
  BatchOptions,
  ErrorCode,
  Explanation,
  ModelKind,
  RowsPrediction,
  Scored,
} from 'ferrisk';

export async function portal(url: string, rows: Record<string, string | number | null>[]): Promise<number> {
  const controller = new AbortController();
  const scorer: AsyncScorer = await createScorer(url, {
    worker: true,
    sha256: 'ab12',
    onProgress: (loaded: number, total: number | null) => void (loaded + (total ?? 0)),
  });
  const options: BatchOptions = { chunkRows: 500, signal: controller.signal, onProgress: (done, total) => void (done / total) };
  const r: RowsPrediction = await scorer.predictRows([...rows, [1, 'car', null, undefined, Number.NaN]], options);
  const p: Float32Array = r.probabilities;
  const s: Scored = await scorer.score(rows[0] ?? {}, { explain: true, reasons: 3 });
  const unit: Explanation['unit'] | undefined = s.explanation?.unit;
  const kind: ModelKind = (await scorer.metadata()).modelKind;
  const typed: Float32Array = await scorer.predictBatch(new Float64Array(0), new Int32Array(0), 0, { signal: controller.signal });
  try {
    await scorer.predict({ age: '35' });
  } catch (e) {
    if (e instanceof FerriskError) {
      const code: ErrorCode = e.code;
      const where: string = `${e.feature ?? ''}${e.line ?? ''}${e.column ?? ''}${e.row ?? ''}`;
      if (code === 'CSV_ROW' || code === 'BAD_VALUE') return where.length;
    }
  }
  await scorer.free();

  await ready();
  const sync: Scorer = Scorer.load(new Uint8Array(0));
  sync.free();

  // @ts-expect-error: a code that does not exist
  const wrongCode: ErrorCode = 'NOT_A_CODE';
  // @ts-expect-error: a model kind that does not exist
  const wrongKind: ModelKind = 'neural-net';
  // @ts-expect-error: a unit that does not exist
  const wrongUnit: Explanation['unit'] = 'odds';
  // @ts-expect-error: batch rows hold numbers, strings or missing values
  await scorer.predictRows([{ age: true }]);
  // @ts-expect-error: the probabilities are a Float32Array
  const wrongP: number[] = r.probabilities;
  return p.length + typed.length + String(unit).length + kind.length + wrongCode.length + wrongKind.length + wrongUnit.length + wrongP.length;
}
