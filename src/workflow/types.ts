// What a workflow is, as written in a YAML file or built in code (see builder.ts).
import { z } from 'zod';
import { scheduleSpecSchema } from '../schedule/spec.ts';
import { resultSpecSchema } from './results.ts';

export type ParamValue = string | number | boolean | null | ParamValue[] | { [key: string]: ParamValue };

const paramValue: z.ZodType<ParamValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(paramValue), z.record(z.string(), paramValue)]),
);

export const onErrorPolicies = ['fail', 'skip', 'quarantine'] as const;

const durationPattern = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const secondsPer: Record<string, number> = { ms: 1e-3, s: 1, m: 60, h: 3600 };

/** A stage's `timeout` in seconds: a number is seconds; a string has a unit (`30s`, `5m`). */
export function durationSeconds(value: number | string): number {
  if (typeof value === 'number') return value;
  const [, n, unit] = durationPattern.exec(value)!;
  return Number(n) * secondsPer[unit];
}

export const stageSpecSchema = z.object({
  id: z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'ids are letters, digits, _ and -, starting with a letter or _'),
  use: z.string().min(1),
  from: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
  with: z.record(z.string(), z.unknown()).optional(),
  retries: z.number().int().min(0).optional(),
  timeout: z.union([z.number().positive(), z.string().regex(durationPattern, 'a timeout is seconds, or a duration such as 500ms, 30s, 5m or 1h')]).optional(),
  onError: z.enum(onErrorPolicies).optional(),
}).strict();

export const workflowSpecSchema = z.object({
  name: z.string().regex(/^[a-z0-9-]+$/, 'names are lower-case letters, digits and -'),
  description: z.string().optional(),
  params: z.record(z.string(), paramValue).optional(),
  stages: z.array(stageSpecSchema).min(1, 'a workflow needs at least one stage'),
  schedule: scheduleSpecSchema.optional(),
  results: z.array(resultSpecSchema).optional(),
}).strict();

export type StageSpec = z.infer<typeof stageSpecSchema>;
export type WorkflowSpec = Omit<z.infer<typeof workflowSpecSchema>, 'params'> & { params?: Record<string, ParamValue> };

/** Where a workflow came from, for messages and relative paths. */
export interface WorkflowSource {
  /** The file, or a name for workflows built in code. */
  file: string;
  /** Folder that relative paths (inputs, stage files) resolve against. */
  baseDir: string;
  /** The text as written, for the run record. */
  text: string;
  /** 1-based line of each stage's entry, by index, when known. */
  stageLines: number[];
}

export const inputsOf = (stage: StageSpec): string[] =>
  stage.from === undefined ? [] : Array.isArray(stage.from) ? stage.from : [stage.from];

/** One thing wrong with a workflow: a sentence, and the stage and line it is about. */
export interface Problem {
  message: string;
  stage?: string;
  line?: number;
}
