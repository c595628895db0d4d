// Params that hold secrets (tokens, passwords, keys to services) never reach logs or run records:
// their string values are replaced by a marker wherever params are written down. The run record
// keeps the workflow file's hash as written, so the file can still be matched to the record.
import { isPair, isScalar, parseDocument, visit } from 'yaml';

export const redacted = '[redacted]';

/**
 * Names that look like secrets. `key` alone or as a suffix of a credential (`apiKey`,
 * `access_key`); not `keys` or `sortKey`-like column lists, which are not secret.
 */
const secretName = /token|password|passwd|secret|credential|api[_-]?key|access[_-]?key|private[_-]?key|^key$/i;

export const isSecretName = (name: string) => secretName.test(name);

/** A copy of `value` with every string under a secret-looking name replaced. */
export function redactParams<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => redactParams(v)) as T;
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) =>
    [k, isSecretName(k) && typeof v === 'string' ? redacted : redactParams(v)])) as T;
}

/** The workflow text with the values of secret-looking keys replaced (comments and layout kept). */
export function redactWorkflowText(text: string): string {
  const doc = parseDocument(text);
  let changed = false;
  visit(doc, {
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && isSecretName(String(pair.key.value)) && isScalar(pair.value) && typeof pair.value.value === 'string') {
        pair.value.value = redacted;
        changed = true;
      }
    },
  });
  return changed ? doc.toString() : text;
}

