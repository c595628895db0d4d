// Workflow params: `--set key=value` overrides typed by each param's default, and `${params.x}`
// references inside stage settings.
import { parse as parseYaml } from 'yaml';
import { isSecretName, redacted } from './secrets.ts';
import type { ParamValue } from './types.ts';

/** Applies `key=value` overrides; throws with a readable message on an unknown key or a bad value. */
export function applyOverrides(defaults: Record<string, ParamValue>, sets: string[]): Record<string, ParamValue> {
  const params = { ...defaults };
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) throw new Error(`--set '${set}' is not key=value`);
    const key = set.slice(0, eq).trim();
    const text = set.slice(eq + 1);
    if (!(key in defaults)) {
      const known = Object.keys(defaults);
      throw new Error(`--set ${key}: the workflow has no param '${key}' (params: ${known.join(', ') || 'none'})`);
    }
    // A secret's value, or its default, is never quoted back in the error.
    params[key] = typedLike(defaults[key], text, key, isSecretName(key));
  }
  return params;
}

/** A secret's value, and its default, are never quoted back in the error. */
function typedLike(example: ParamValue, text: string, key: string, secret: boolean): ParamValue {
  const set = `${key}=${secret ? redacted : text}`;
  if (typeof example === 'number') {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n)) throw new Error(`--set ${set}: expected a number like the default${secret ? '' : ` ${example}`}`);
    return n;
  }
  if (typeof example === 'boolean') {
    const t = text.trim().toLowerCase();
    if (['true', 'yes', '1', 'on'].includes(t)) return true;
    if (['false', 'no', '0', 'off'].includes(t)) return false;
    throw new Error(`--set ${set}: expected true or false`);
  }
  if (typeof example === 'string') return text;
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new Error(`--set ${set}: not a YAML value${secret ? '' : ` (${(error as Error).message.split('\n')[0]})`}`);
  }
  if (Array.isArray(example) && !Array.isArray(value)) throw new Error(`--set ${set}: expected a list like [a, b]`);
  return value as ParamValue;
}

const reference = /\$\{params\.([A-Za-z_][A-Za-z0-9_]*)\}/g;
const wholeReference = /^\$\{params\.([A-Za-z_][A-Za-z0-9_]*)\}$/;
const outReference = /\$\{out\}/g;

/**
 * Replaces `${params.x}` in every string of `value`. A string that is only a reference takes the
 * param's typed value (so `pfa: "${params.pfa}"` stays a number); otherwise it is interpolated.
 * Unknown names are reported through `unknown`. `${out}` is the run's output folder (absolute):
 * where a scheduled workflow finds what its previous run left (a model, a running record).
 */
export function substitute(value: unknown, params: Record<string, ParamValue>, unknown: (name: string) => void, out = ''): unknown {
  if (typeof value === 'string') {
    const text = value.replace(outReference, () => out);
    const whole = wholeReference.exec(text);
    if (whole) {
      if (!(whole[1] in params)) unknown(whole[1]);
      return params[whole[1]];
    }
    return text.replace(reference, (ref, name: string) => {
      if (!(name in params)) {
        unknown(name);
        return ref;
      }
      const v = params[name];
      return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, params, unknown, out));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, params, unknown, out)]));
  }
  return value;
}
