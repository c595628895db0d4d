// workflows/radar/clutter-detector-train.yaml made the committed clutter detector
// (data/models/radar-clutter-cnn): run again, its model.train finds the committed model trained on
// the very same rows (sha256 of the patches) with the same params, and emits it byte for byte.
// The evaluation (clutter-detector-eval.yaml, minutes) is not run here; its table is in the README.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { LocalExecutor } from '../../src/engine/executors/local.ts';
import { runWorkflow } from '../../src/index.ts';
import { repoRoot, scratchDir } from '../helpers.ts';

const out = scratchDir();
const executor = new LocalExecutor({ workers: 2 });
afterAll(() => executor.close());

describe('reference workflows: detection in clutter', () => {
  test('clutter-detector-train.yaml reproduces the rows the committed model was trained on, and keeps it', async () => {
    const summary = await runWorkflow(join(repoRoot, 'workflows', 'radar', 'clutter-detector-train.yaml'), { out, executor, allowPaths: [join(repoRoot, 'data')] });
    expect(summary.status, summary.error).toBe('ok');
    const committed = join(repoRoot, 'data', 'models', 'radar-clutter-cnn');
    for (const file of ['model.json', 'weights.bin', 'quiver-model.json']) {
      expect(readFileSync(join(out, 'radar-clutter-cnn', file)).equals(readFileSync(join(committed, file))), file).toBe(true);
    }
  });
});
