// Type-checks the wasm package's declarations the way a page uses them:
// `tsc --strict --noEmit` over www/pkg/ferrisk_wasm.d.ts and this file
// (scripts/test-wasm.sh, bundle step). Never run; it must only compile.
// The `@ts-expect-error` lines check that results are typed, not `any`.

import init, { CsvSession, Scorer, version } from "../../../www/pkg/ferrisk_wasm.js";
import type {
  CsvPrediction,
  CsvRowError,
  CsvRows,
  Customer,
  DriftReport,
  ErrorCode,
  ModelKind,
  RowsPrediction,
  Explanation,
  Feature,
  Metadata,
  Metrics,
  Prediction,
  Reason,
  Schema,
  ScoreOptions,
  Scored,
} from "../../../www/pkg/ferrisk_wasm.js";

export async function advise(modelBytes: Uint8Array, customer: Customer): Promise<string[]> {
  await init();
  const v: string = version();
  const scorer: Scorer = Scorer.load(modelBytes);
  const meta: Metadata = scorer.metadata();
  const schema: Schema = scorer.schema();
  const first: Feature | undefined = schema.features[0];
  const categories: string[] = first?.type === "categorical" ? first.categories : [];
  const trained: Metrics | null = scorer.metrics();

  const p: Prediction = scorer.predict(customer);
  const options: ScoreOptions = { explain: true, reasons: 3, lang: "en" };
  const scored: Scored = scorer.score(customer, options);
  const plain: Scored = scorer.score(customer);
  const credit: Scored = scorer.reasons(customer, 4, "zh");
  const reasons: Reason[] = scored.reasons;
  const explanation: Explanation | null = scored.explanation;
  const unit: "log-odds" | "probability" | undefined = explanation?.unit;
  const base: number = scored.pointsBreakdown?.base ?? 0;
  const perFeature: number = (scored.pointsBreakdown?.features ?? []).reduce((a, f) => a + f.points, base);
  const contributions: Explanation = scorer.contributions(customer);

  // @ts-expect-error: the probability is a number
  const wrong: string = scored.probability;
  // @ts-expect-error: options are checked
  scorer.score(customer, { explain: "yes" });
  // @ts-expect-error: a customer's values are numbers, strings or missing
  scorer.predict({ age: true });

  const batch: Float32Array = scorer.predictBatch(new Float64Array(0), new Int32Array(0), 0);
  const rows: RowsPrediction = scorer.predictRows([customer, [1, "a", null, undefined, Number.NaN]]);
  const rowWarnings: { row: number; warnings: string[] }[] = rows.warnings;
  const modelKind: ModelKind = meta.modelKind;
  const code: ErrorCode = "CSV_ROW";
  // @ts-expect-error: model kinds are a closed union
  const notAKind: ModelKind = "neural-net";
  const notes = new Uint8Array(0);
  const noted: Float32Array = scorer.predictBatch(new Float64Array(0), new Int32Array(0), 0, notes);
  const csv: CsvPrediction = scorer.predictCsv("a,b\n1,2\n");
  const errors: CsvRowError[] = csv.errors;
  scorer.free();
  return [
    v,
    meta.kindName,
    String(categories.length + (trained?.rocAuc ?? 0) + p.probability + plain.points + credit.points),
    String(reasons.length + perFeature + contributions.base + batch.length + noted.length + notes.length),
    String(unit) + String(wrong) + String(errors.length),
    String(rows.probabilities.length + rowWarnings.length) + modelKind + code + notAKind,
  ];
}

/** Streams a file's bytes through a session, as the page's worker does. */
export function stream(scorer: Scorer, chunks: Uint8Array[]): { scored: number; failed: CsvRowError[] } {
  const session: CsvSession = scorer.csvSession({ fields: true, drift: true });
  let scored = 0;
  const failed: CsvRowError[] = [];
  const take = (rows: CsvRows): void => {
    const lines: Uint32Array = rows.lines;
    const fields: string[][] = rows.fields;
    const labels: Uint8Array | null = rows.labels;
    rows.probabilities.forEach((p, i) => {
      if (!Number.isNaN(p) && rows.decisions[i] <= 1 && lines[i] > 0) scored += 1;
    });
    failed.push(...rows.errors);
    for (const w of rows.warnings) scored += w.warnings.length * 0 + fields.length * 0 + (labels?.length ?? 0) * 0;
  };
  for (const chunk of chunks) take(session.push(chunk));
  take(session.finish());
  const header: string[] | null = session.header();
  const label: number | undefined = session.labelColumn();
  const counts: Uint32Array | null = session.driftCounts();
  if (counts && header && label !== undefined) {
    const drift: DriftReport = session.driftReport();
    scored += drift.rows * 0;
  }
  session.free();
  return { scored, failed };
}
