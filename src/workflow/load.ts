// YAML workflow file → WorkflowSpec, with line numbers kept for messages.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isScalar, LineCounter, parseDocument, isSeq, visit, type Document } from 'yaml';
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
  const line = (offset = 0) => lineCounter.linePos(offset).line;
  // `stage 'id': ` for a line inside a stage's entry, else nothing.
  const stageAt = (at: number) => {
    const i = stageLines.findLastIndex((start) => start > 0 && start <= at);
    return i < 0 ? '' : `stage '${String(doc.getIn(['stages', i, 'id']) ?? `#${i + 1}`)}': `;
  };
  const refused = refusedKeys(doc, line).map((at) => ({ line: at, message: `${stageAt(at)}the key '__proto__' is refused: settings become JavaScript objects, which would drop it silently; give the column another name in the data` }));
  if (refused.length > 0) return { source, problems: refused };
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: maxAliases });
  } catch (error) {
    if (!(error instanceof ReferenceError)) throw error;
    const at = line(firstAlias(doc));
    return { source, problems: [{ line: at, message: `${stageAt(at)}YAML: aliases (*name) expand to more than ${maxAliases} copies of their anchors, as a file made to exhaust memory does; the workflow is refused` }] };
  }
  const parsed = workflowSpecSchema.safeParse(raw);
  if (!parsed.success) return { source, problems: structureProblems(parsed.error, raw, stageLines) };
  return { spec: parsed.data as WorkflowSpec, source, problems: [] };
}

/** Copies of anchored nodes that aliases may make: a workflow needs a few; a "billion laughs" file makes billions. */
const maxAliases = 100;

function firstAlias(doc: Document): number | undefined {
  let offset: number | undefined;
  visit(doc, { Alias: (_, node) => { offset = node.range?.[0]; return visit.BREAK; } });
  return offset;
}

/**
 * Lines of `__proto__` keys: parsing settings into objects would drop them without a word (a
 * derived column, a schema entry silently missing), so they are refused where they are written.
 */
function refusedKeys(doc: Document, line: (offset?: number) => number): number[] {
  const lines: number[] = [];
  visit(doc, {
    Pair: (_, pair) => {
      if (isScalar(pair.key) && pair.key.value === '__proto__') lines.push(line(pair.key.range?.[0]));
    },
  });
  return lines;
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
