// The quarantine: rows stages rejected under `onError: quarantine`, one Parquet file per stage at
// OUT/_quarantine/STAGE.parquet, in partition order, committed with the sinks. Files left there by
// an earlier run that this run has nothing for are removed, so the folder always describes the
// latest run. Rows are admitted through the run's privacy (privacy.ts) before they are written or
// cached, so what the cache replays here later is already fit to write.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RecordBatch } from 'apache-arrow';
import { parquetSink } from '../../connectors/parquet/sink.ts';
import type { OutputRecord, SinkWriter } from '../workflow/stage.ts';
import type { Privacy } from './privacy.ts';

export const quarantineFolder = '_quarantine';

export class Quarantine {
  private readonly writers = new Map<string, Promise<SinkWriter>>();

  constructor(private readonly outDir: string, private readonly privacy: Privacy) {}

  /** Writes freshly rejected rows as they may be kept; returns them so, for the cache. */
  async admit(stageId: string, batch: RecordBatch): Promise<RecordBatch> {
    const kept = this.privacy.rows(stageId, batch);
    await this.write(stageId, kept);
    return kept;
  }

  /** Writes rows already admitted (replayed from the cache). */
  async write(stageId: string, batch: RecordBatch): Promise<void> {
    let writer = this.writers.get(stageId);
    if (!writer) {
      const params = parquetSink.params.parse({ path: join(quarantineFolder, `${stageId}.parquet`) });
      writer = Promise.resolve(parquetSink.open(params, { schema: batch.schema, outDir: this.outDir, stageId }));
      this.writers.set(stageId, writer);
      await (await writer).startPartition({ index: 0, key: stageId });
    }
    await (await writer).write(batch);
  }

  async commit(): Promise<OutputRecord[]> {
    const records: OutputRecord[] = [];
    for (const [stageId, pending] of [...this.writers].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const writer = await pending;
      await writer.endPartition({ index: 0, key: stageId });
      records.push(...(await writer.commit()));
    }
    const folder = join(this.outDir, quarantineFolder);
    const written = new Set([...this.writers.keys()].map((id) => `${id}.parquet`));
    for (const name of readdirSafe(folder)) if (!written.has(name)) rmSync(join(folder, name), { force: true });
    return records;
  }

  async abort(): Promise<void> {
    await Promise.all([...this.writers.values()].map(async (w) => (await w).abort()));
  }
}

function readdirSafe(folder: string): string[] {
  try {
    return readdirSync(folder);
  } catch {
    return [];
  }
}
