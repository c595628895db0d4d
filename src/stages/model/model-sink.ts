// `sink.model`: writes the model artifact that `model.train` emits (one row) as a folder under the
// output folder: model.json, weights.bin and quiver-model.json (src/models/artifact.ts), each
// written under a temporary name, synced and renamed, and listed with its sha256 in the run record.
import { join } from 'node:path';
import { z } from 'zod';
import { sameType } from '../../arrow/types.ts';
import { artifactFromRow, artifactSchema } from '../../models/artifact-row.ts';
import { SchemaError } from '../../workflow/errors.ts';
import { defineSink, type OutputRecord } from '../../workflow/stage.ts';
import { outputPath, sinkFile } from '../../io/file-sink.ts';
import { OutputFile } from '../../io/output-file.ts';

const params = z.object({
  path: outputPath.refine((p) => p.endsWith('/'), { message: "is a folder: end it with '/'" }).describe('the artifact folder, relative to the output folder'),
}).strict();

export const modelSink = defineSink({
  name: 'sink.model',
  kind: 'sink',
  version: '1',
  description: 'Writes a trained model (the row model.train emits) as an artifact folder: model.json, weights.bin, quiver-model.json.',
  params,
  check({ inputs: [input] }) {
    const fits = artifactSchema.fields.every((f) => input.fields.some((g) => g.name === f.name && sameType(g.type, f.type)));
    if (!fits) throw new SchemaError('sink.model takes what model.train emits: columns model (utf8), weights (binary), card (utf8)');
  },
  open(p, { outDir }) {
    let bytes: ReturnType<typeof artifactFromRow> | undefined;
    let rows = 0;
    const files: OutputFile[] = [];
    return {
      startPartition() {},
      write(batch) {
        rows += batch.numRows;
        if (batch.numRows > 0) bytes = artifactFromRow(batch, batch.numRows - 1);
      },
      endPartition() {},
      async commit(): Promise<OutputRecord[]> {
        if (rows !== 1 || !bytes) throw new Error(`sink.model writes one model, and was given ${rows} rows`);
        const contents: [string, Uint8Array][] = [
          ['model.json', new TextEncoder().encode(bytes.model)],
          ['weights.bin', bytes.weights],
          ['quiver-model.json', new TextEncoder().encode(JSON.stringify(bytes.card, null, 2) + '\n')],
        ];
        const records: OutputRecord[] = [];
        for (const [name, content] of contents) {
          const file = new OutputFile(sinkFile(outDir, join(p.path, name)));
          files.push(file);
          await file.write(content);
          await file.finish();
        }
        for (const file of files) records.push({ path: file.path, bytes: file.size, sha256: await file.commit() });
        return records;
      },
      async abort() {
        await Promise.all(files.map((f) => f.abort()));
      },
    };
  },
});
