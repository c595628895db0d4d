// What a workflow file's `schedule:` may say (its YAML shape); the scheduler reads it.
import { z } from 'zod';

export const overlapPolicies = ['skip', 'queue'] as const;

/** A workflow's `schedule:`, for `quiver schedule`. The cron expression and time zone are checked
 * by validation (cron.ts scheduleProblems), so a bad one is reported like any other problem. */
export const scheduleSpecSchema = z.object({
  cron: z.string().min(1),
  /** IANA name (Europe/Berlin); UTC when absent. */
  timezone: z.string().min(1).optional(),
  /** A fire time that comes while a run is going: skipped (default), or run right after it. */
  overlap: z.enum(overlapPolicies).optional(),
  /** After a stall (machine asleep), run once for the missed fire times (default false: only record them). */
  catchUp: z.boolean().optional(),
}).strict();

export type ScheduleSpec = z.infer<typeof scheduleSpecSchema>;
