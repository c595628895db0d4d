// What a run writes down passes through here once: the log's lines, the error that fails it (on
// stderr, in the run record, report and crate) and the rows it quarantines. Secret params are
// replaced by value (secrets.ts). In a workflow that de-identifies, the stages up to and including
// the de-identifying one handle patient data: their quarantined rows are de-identified as that
// stage's output is, and the names of the files they read become the keyed names `_source` gets.
import { Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { makeBatch } from '../arrow/batch.ts';
import type { Privacy as StagePrivacy } from '../workflow/stage.ts';
import type { Redactor } from '../workflow/secrets.ts';
import type { ResolvedWorkflow } from '../workflow/validate.ts';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export class Privacy {
  /** Any file name of a protected source (partition keys and absolute paths), longest first. */
  private readonly files?: RegExp;

  private constructor(
    private readonly secrets: Redactor,
    private readonly protectedStages: Set<string>,
    private readonly stage: StagePrivacy | undefined,
    fileNames: string[],
  ) {
    const names = [...new Set(fileNames)].sort((a, b) => b.length - a.length);
    if (names.length > 0) this.files = new RegExp(names.map(escapeRegExp).join('|'), 'g');
  }

  static of(workflow: ResolvedWorkflow): Privacy {
    // The first de-identifying stage in topological order names the files; it and everything upstream are protected.
    const guard = workflow.stages.find((s) => (s.stage.kind === 'map' || s.stage.kind === 'model') && s.stage.privacy);
    if (!guard || (guard.stage.kind !== 'map' && guard.stage.kind !== 'model')) return new Privacy(workflow.redactor, new Set(), undefined, []);
    const upstream = new Set<string>();
    const visit = (id: string) => {
      if (upstream.has(id)) return;
      upstream.add(id);
      workflow.byId.get(id)!.inputs.forEach(visit);
    };
    visit(guard.id);
    const files = workflow.stages.filter((s) => upstream.has(s.id)).flatMap((s) => (s.partitions ?? []).flatMap((p) => [p.key, ...(p.file ? [p.file] : [])]));
    return new Privacy(workflow.redactor, upstream, privacyOf(guard.stage.privacy!.bind(guard.stage), guard.params), files);
  }

  /** Does stage `stageId` handle patient data before de-identification? */
  protects(stageId: string): boolean {
    return this.stage !== undefined && this.protectedStages.has(stageId);
  }

  /** `text` with secret values replaced and protected files named by their keyed names. */
  text(text: string): string {
    const named = this.files && this.stage ? text.replace(this.files, (name) => this.stage!.file(name)) : text;
    return this.secrets.text(named);
  }

  /** Rows stage `stageId` quarantined, as they may be written: de-identified if it is protected, `_error` through text(). */
  rows(stageId: string, batch: RecordBatch): RecordBatch {
    const rows = this.stage && this.protectedStages.has(stageId) ? this.stage.rows(batch) : batch;
    const index = rows.schema.fields.findIndex((f) => f.name === '_error');
    if (index < 0) return rows;
    const errors = rows.getChildAt(index)!;
    const cleaned = vectorFromArray(Array.from({ length: rows.numRows }, (_, r) => this.text(String(errors.get(r) ?? ''))), new Utf8()).data[0];
    return makeBatch(rows.schema, rows.data.children.map((c, i) => (i === index ? cleaned : c)), rows.numRows);
  }
}

/**
 * The stage's privacy for its params. Without its key it cannot give one, and the run fails on that
 * before any task: until then file names are hidden, and no row may be written.
 */
function privacyOf(make: (params: unknown) => StagePrivacy, params: unknown): StagePrivacy {
  try {
    return make(params);
  } catch (error) {
    return { file: () => '[file]', rows: () => { throw error; } };
  }
}
