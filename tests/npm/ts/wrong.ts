// Must NOT compile (tsconfig.wrong.json; scripts/test-npm.sh expects tsc to fail with exactly
// these three errors): wrong literals for the package's unions.
import type { ErrorCode, ModelKind } from 'ferrisk';
import { createScorer } from 'ferrisk';

export const code: ErrorCode = 'CHECKSUMS';
export const kind: ModelKind = 'neural-net';
export const scorer = createScorer('m.frk', { worker: 'yes' });
