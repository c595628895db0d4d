// Compile-time errors of the expression language. Every message quotes the expression, says what
// is wrong and, where it can, at which character (counted from 0), so a workflow author can find it.
import { SchemaError } from '../../../../workflow/errors.ts';

/** A SchemaError reading `in '<expression>': <message> at position <pos>[; <hint>]`. */
export function expressionError(text: string, message: string, pos?: number, hint?: string): SchemaError {
  return new SchemaError(`in '${text}': ${message}${pos === undefined ? '' : ` at position ${pos}`}${hint ? `; ${hint}` : ''}`);
}
