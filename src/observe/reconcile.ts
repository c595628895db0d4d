// Rows are accounted for: along every edge, what a stage passed on is what the next one took in
// (each partition counted once, whether computed, replayed from the cache or left untouched), and
// within a stage, rows in = rows out + rows quarantined + rows it removes by design (filters,
// aggregates). A mismatch means rows went missing; the summary and the run record say so.
import type { StageStats } from '../provenance/stage-stats.ts';
import type { ResolvedWorkflow } from '../workflow/validate.ts';

/** One sentence per edge whose counts do not agree; empty when every row is accounted for. */
export function reconcile(workflow: ResolvedWorkflow, stats: StageStats[]): string[] {
  const byId = new Map(stats.map((s) => [s.id, s]));
  const problems: string[] = [];
  for (const s of workflow.stages) {
    const st = byId.get(s.id)!;
    if (s.inputs.length === 0 || st.stoppedEarly) continue; // a limit reads only what it needs
    const passed = s.inputs.reduce((sum, id) => sum + byId.get(id)!.rowsOut, 0);
    if (passed !== st.rowsIn) {
      problems.push(`stage '${s.id}' took in ${st.rowsIn} rows, but ${s.inputs.map((i) => `'${i}'`).join(' and ')} passed on ${passed}`);
    }
  }
  return problems;
}
