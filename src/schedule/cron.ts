// A cron expression read in a time zone → its fire times. croner does the calendar arithmetic
// (month lengths, day-of-week rules, DST); it never does the waiting: the scheduler sleeps on its
// own Clock, so tests can drive it with a fake one.
import { Cron, CronPattern } from 'croner';

export class CronSchedule {
  private readonly cron: Cron;

  /** Throws a one-sentence error naming the value if the expression or the time zone is wrong. */
  constructor(readonly expression: string, readonly timezone = 'UTC') {
    checkTimezone(timezone);
    try {
      // CronPattern alone, first: Cron would take a string with ':' as a one-off date.
      new CronPattern(expression, timezone);
      // No callback given, so croner starts no timer of its own.
      this.cron = new Cron(expression, { timezone });
    } catch (error) {
      throw new Error(`cron '${expression}' is not a valid cron expression (${(error as Error).message.replace(/^CronPattern: /, '')})`);
    }
    if (!this.nextAfter(new Date())) throw new Error(`cron '${expression}' never fires`);
  }

  /** The first fire time strictly after `after`, or undefined if there is none. */
  nextAfter(after: Date): Date | undefined {
    return this.cron.nextRun(after) ?? undefined;
  }

  /** The last fire time strictly before `before` (croner finds it directly, without walking). */
  lastBefore(before: Date): Date | undefined {
    return this.cron.previousRuns(1, before)[0];
  }

  /** The next `n` fire times after `after`. */
  next(n: number, after: Date): Date[] {
    return this.cron.nextRuns(n, after);
  }
}

function checkTimezone(timezone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new Error(`timezone '${timezone}' is not an IANA time zone name (such as UTC, Europe/Berlin, America/New_York)`);
  }
}

/** Validation's view: each problem with a workflow's `schedule:` as a sentence (none if it is fine). */
export function scheduleProblems(schedule: { cron: string; timezone?: string }): string[] {
  const problems: string[] = [];
  let timezone = schedule.timezone ?? 'UTC';
  try {
    checkTimezone(timezone);
  } catch (error) {
    problems.push(`schedule: ${(error as Error).message}`);
    timezone = 'UTC'; // still check the expression, so both problems are reported at once
  }
  try {
    new CronSchedule(schedule.cron, timezone);
  } catch (error) {
    problems.push(`schedule: ${(error as Error).message}`);
  }
  return problems;
}
