// YAML workflow file → WorkflowSpec, with line numbers kept for messages.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isSeq } from 'yaml';
import type { z } from 'zod';
import { workflowSpecSchema, type Problem, type WorkflowSource, type WorkflowSpec } from './types.ts';

export interface Loaded {
  spec?: WorkflowSpec;
  source: WorkflowSource;
  problems: Problem[];
}

export async function loadWorkflowFile(file: string): Promise<Loaded> {
  const path = resolve(file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : (error as Error).message;
    return { source: { file, baseDir: dirname(path), text: '', stageLines: [] }, problems: [{ message: `cannot read workflow: ${why}` }] };
  }
  return parseWorkflow(text, file, dirname(path));
}

export function parseWorkflow(text: string, file: string, baseDir: string): Loaded {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const stagesNode = doc.get('stages');
  const stageLines = isSeq(stagesNode)
    ? stagesNode.items.map((item) => {
        const range = (item as { range?: [number, number, number] }).range;
        return range ? lineCounter.linePos(range[0]).line : 0;
      })
    : [];
  const source: WorkflowSource = { file, baseDir, text, stageLines };
  if (doc.errors.length > 0) {
    return {
      source,
      problems: doc.errors.map((e) => ({
        message: `YAML: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`,
        line: e.linePos?.[0]?.line,
      })),
    };
  }
  const parsed = workflowSpecSchema.safeParse(doc.toJS());
  if (!parsed.success) return { source, problems: structureProblems(parsed.error, doc.toJS(), stageLines) };
  return { spec: parsed.data as WorkflowSpec, source, problems: [] };
}

function structureProblems(error: z.ZodError, raw: unknown, stageLines: number[]): Problem[] {
  return error.issues.map((issue) => {
    const path = issue.path;
    if (path[0] === 'stages' && typeof path[1] === 'number') {
      const stage = (raw as { stages?: { id?: unknown }[] }).stages?.[path[1]];
      const id = typeof stage?.id === 'string' ? stage.id : `#${path[1] + 1}`;
      const key = path.slice(2).join('.');
      return { stage: id, line: stageLines[path[1]], message: `stage '${id}': ${describeIssue(issue, key)}` };
    }
    return { message: `workflow: ${describeIssue(issue, path.join('.'))}` };
  });
}

/** Turns one zod issue into words, naming the key it is about. */
export function describeIssue(issue: z.core.$ZodIssue, key: string): string {
  const at = key ? `'${key}'` : 'value';
  switch (issue.code) {
    case 'invalid_type':
      return (issue as { input?: unknown }).input === undefined ? `${at} is required` : `${at} must be ${issue.expected}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'`).join(', ')}${key ? ` in ${at}` : ''}`;
    case 'invalid_value':
      return `${at} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at}: ${issue.message}`;
  }
}
