// Runs a job on a cron schedule, never two at once. The policy, in full:
// - overlap 'skip' (default): a fire time that comes while a run is going is skipped.
//   overlap 'queue': it is remembered and run as soon as the current run ends; at most one waits,
//   fire times after that one are skipped.
// - A fire time noticed more than `lateAfterMs` after it passed (the machine slept, the process
//   was stopped in a debugger) was missed. All of those seen at one wake-up share one `missed`
//   record. catchUp false (default): nothing more. catchUp true: one run starts right away for
//   them (unless a fire time that is on time starts one anyway): a workflow's run does not depend
//   on its fire time, so running each missed one would give the same result several times.
// - Every fire time ends up in a record: ran, failed or skipped, or within a missed one.
// - On abort: no new runs; a queued fire time is recorded as skipped; the current run is awaited.
import { systemClock, type Clock } from './clock.ts';
import { CronSchedule } from './cron.ts';
import type { ScheduleSpec } from './spec.ts';

export type OverlapPolicy = NonNullable<ScheduleSpec['overlap']>;

/** What a run reports back (a RunSummary fits). */
export interface RunResult {
  status: 'ok' | 'failed';
  runId?: string;
  error?: string;
}

/** One line of OUT/.quiver/schedule.jsonl. Times are ISO 8601 in UTC. */
export interface ScheduleRecord {
  outcome: 'ran' | 'failed' | 'skipped' | 'missed';
  /** The fire time; for `missed`, the first fire time missed. */
  scheduled: string;
  /** `missed`: the last fire time missed. */
  lastMissed?: string;
  /** ran / failed: when the run started and ended. */
  start?: string;
  end?: string;
  runId?: string;
  status?: 'ok' | 'failed';
  error?: string;
  /** skipped / missed: why. ran / failed: set when the run waited in the queue or caught up. */
  reason?: string;
}

export interface SchedulerOptions {
  cron: string;
  /** IANA time zone the expression is read in (default UTC). */
  timezone?: string;
  overlap?: OverlapPolicy;
  catchUp?: boolean;
  clock?: Clock;
  /** Starts one run; a rejection counts as a failed run. */
  run: (firedAt: Date) => Promise<RunResult>;
  /** Hears every record, in order (e.g. ScheduleJournal.append). Must not throw. */
  record?: (record: ScheduleRecord) => void;
  /** How late a fire time may be noticed and still run as usual (default 60 s). */
  lateAfterMs?: number;
}

const iso = (date: Date) => date.toISOString();

export class Scheduler {
  readonly schedule: CronSchedule;
  private readonly clock: Clock;
  private readonly overlap: OverlapPolicy;
  private readonly catchUp: boolean;
  private readonly lateAfterMs: number;
  /** The run going now: its fire time, its start, and a promise that settles once it has ended (and a queued run, if any, has started). */
  private current?: { scheduled: Date; start: Date; done: Promise<void> };
  private queued?: { at: Date; reason: string };
  private signal?: AbortSignal;

  constructor(private readonly options: SchedulerOptions) {
    this.schedule = new CronSchedule(options.cron, options.timezone ?? 'UTC');
    this.clock = options.clock ?? systemClock;
    this.overlap = options.overlap ?? 'skip';
    this.catchUp = options.catchUp ?? false;
    this.lateAfterMs = options.lateAfterMs ?? 60_000;
  }

  /** The next `n` fire times from now. */
  upcoming(n = 3): Date[] {
    return this.schedule.next(n, this.clock.now());
  }

  /** Keeps running the schedule until `signal` aborts; resolves once the current run has ended. */
  async run(signal: AbortSignal): Promise<void> {
    if (this.signal) throw new Error('a Scheduler can be run once');
    this.signal = signal;
    let next = this.schedule.nextAfter(this.clock.now());
    while (next && !signal.aborted) {
      await this.clock.sleepUntil(next, signal);
      const now = this.clock.now();
      if (signal.aborted || now < next) continue; // a timer may wake a little early: sleep the rest
      next = this.handleDue(next, now);
    }
    if (this.queued) {
      this.emit({ outcome: 'skipped', scheduled: iso(this.queued.at), reason: 'the scheduler stopped before it could run' });
      this.queued = undefined;
    }
    while (this.current) await this.current.done;
  }

  /** Handles every fire time from `first` up to `now`; returns the next one still to come. */
  private handleDue(first: Date, now: Date): Date | undefined {
    const cutoff = new Date(now.getTime() - this.lateAfterMs);
    let t: Date | undefined = first;
    let missed: { first: Date; last: Date } | undefined;
    if (first < cutoff) {
      // Found directly rather than by stepping, so a week asleep under a per-minute cron costs nothing.
      const before = this.schedule.lastBefore(cutoff);
      const last = before && before > first ? before : first;
      missed = { first, last };
      t = this.schedule.nextAfter(last);
    }
    const onTime: Date[] = [];
    for (; t && t <= now; t = this.schedule.nextAfter(t)) onTime.push(t);
    if (missed) {
      this.emit({
        outcome: 'missed', scheduled: iso(missed.first), lastMissed: iso(missed.last),
        reason: `noticed only at ${iso(now)}: the machine slept or the process stalled`,
      });
      if (this.catchUp && onTime.length === 0) this.fire(missed.last, 'catch-up for the missed fire times');
    }
    for (const at of onTime) this.fire(at);
    return t;
  }

  /** A fire time has come: run it now, queue it or skip it. */
  private fire(at: Date, reason?: string): void {
    const current = this.current;
    if (!current) return this.start(at, reason);
    if (this.overlap === 'queue' && !this.queued) {
      this.queued = { at, reason: `queued behind the run for ${iso(current.scheduled)}` };
      return;
    }
    this.emit({
      outcome: 'skipped', scheduled: iso(at),
      reason: this.queued
        ? `the run for ${iso(current.scheduled)} is still going and the one for ${iso(this.queued.at)} is already queued`
        : `the run for ${iso(current.scheduled)} (started ${iso(current.start)}) is still going`,
    });
  }

  private start(at: Date, reason?: string): void {
    const start = this.clock.now();
    const done = this.execute(at, start, reason).then(() => {
      this.current = undefined;
      // After an abort the queued one never starts: run() records it as skipped.
      if (!this.queued || this.signal?.aborted) return;
      const { at: next, reason: why } = this.queued;
      this.queued = undefined;
      this.start(next, why);
    });
    this.current = { scheduled: at, start, done };
  }

  private async execute(at: Date, start: Date, reason?: string): Promise<void> {
    let result: RunResult;
    try {
      result = await this.options.run(at);
    } catch (error) {
      result = { status: 'failed', error: error instanceof Error ? error.message : String(error) };
    }
    this.emit({
      outcome: result.status === 'ok' ? 'ran' : 'failed',
      scheduled: iso(at), start: iso(start), end: iso(this.clock.now()),
      runId: result.runId, status: result.status, error: result.error, reason,
    });
  }

  private emit(record: ScheduleRecord): void {
    this.options.record?.(record);
  }
}
