// A live progress line per stage on a terminal: tasks done/total, rows, rows per second.
import type { StageStats } from '../provenance/stage-stats.ts';
import { formatCount } from './format.ts';

export class ProgressDisplay {
  private timer?: NodeJS.Timeout;
  private drawnLines = 0;
  private readonly started = performance.now();
  private readonly lastRows = new Map<string, { rows: number; at: number; rate: number }>();

  constructor(private readonly stats: () => StageStats[], private readonly stream: NodeJS.WriteStream = process.stderr) {}

  start(intervalMs = 250): void {
    this.timer = setInterval(() => this.draw(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.draw();
    this.drawnLines = 0;
  }

  private draw(): void {
    const now = performance.now();
    const stages = this.stats();
    const width = Math.max(...stages.map((s) => s.id.length), 5);
    const lines = stages.map((s) => {
      const rows = Math.max(s.rowsOut, s.rowsIn);
      const last = this.lastRows.get(s.id) ?? { rows: 0, at: this.started, rate: 0 };
      const rate = now - last.at > 500 ? ((rows - last.rows) * 1000) / (now - last.at) : last.rate;
      if (now - last.at > 500) this.lastRows.set(s.id, { rows, at: now, rate });
      const total = s.tasksTotal === undefined ? '?' : String(s.tasksTotal);
      const done = s.tasksTotal !== undefined && s.tasks >= s.tasksTotal;
      return `${done ? '✔' : '…'} ${s.id.padEnd(width)}  ${`${s.tasks}/${total}`.padStart(11)} tasks  ${formatCount(rows).padStart(8)} rows  ${done ? '' : s.note ?? `${formatCount(rate)} rows/s`}`;
    });
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : '';
    this.stream.write(up + lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n');
    this.drawnLines = lines.length;
  }
}
