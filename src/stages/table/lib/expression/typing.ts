// The typed tree the checker builds from the syntax tree, and the type vocabulary shared by the
// checker and the function table: categories, integer bounds, unification, and the errors that
// say which column (or which part of the expression) has the wrong type.
import { Bool, Float64, Int64, Null, Type, Utf8, type DataType } from 'apache-arrow';
import { typeName } from '../../../../arrow/types.ts';
import { ColumnTypeError } from '../../../../workflow/errors.ts';
import { expressionError } from './errors.ts';
import type { FunctionDef } from './functions.ts';
import type { ArithmeticOp, ComparisonOp } from './parser.ts';
import { parseInstant, unitNanos, floorDiv } from './temporal.ts';
import { constant, isStringDictionary, reprOf, scalarValue, type Repr, type Vec } from './vectors.ts';

/** What the checker knows about a value. */
export interface Info {
  type: DataType;
  repr: Repr;
  /**
   * Integers only: a bound on |value|, from the operand types (int32 columns: 2^31, ...).
   * Integer results bounded by 2^53 are computed exactly as doubles, without BigInt.
   */
  bound: number;
}

interface Base extends Info {
  /** Where in the expression text, and that text (for messages). */
  pos: number;
  end: number;
  source: string;
}

export type Typed = Base & (
  | { kind: 'const'; vec: Vec }
  | { kind: 'column'; name: string; index: number; derived: boolean }
  /** Changes representation: 'big' -> 'num' (for float arithmetic) or 'num' -> 'big'. */
  | { kind: 'convert'; operand: Typed }
  | { kind: 'negate'; operand: Typed; check: boolean }
  /** check: the result may leave int64, so each value is checked. */
  | { kind: 'arith'; op: ArithmeticOp; left: Typed; right: Typed; check: boolean }
  /** scale: multiply each side (timestamps of different units are compared in the finer). */
  | { kind: 'compare'; op: ComparisonOp; left: Typed; right: Typed; scale?: [bigint, bigint] }
  /** A comparison decided at compile time; still null where the operand is null. */
  | { kind: 'known'; value: boolean; operand: Typed }
  | { kind: 'not'; operand: Typed }
  | { kind: 'logic'; op: 'and' | 'or'; left: Typed; right: Typed }
  | { kind: 'call'; fn: FunctionDef; args: Typed[]; options: unknown }
);

export const EXACT = 2 ** 53;
/** Above this bound an int64 result may overflow (kept below 2^63 to allow for rounding in bounds). */
export const MAY_OVERFLOW = 2 ** 62;

export type Category = 'int' | 'float' | 'bool' | 'str' | 'temporal' | 'null' | 'other';

export function categoryOf(type: DataType): Category {
  switch (type.typeId) {
    case Type.Int: return 'int';
    case Type.Float: return 'float';
    case Type.Bool: return 'bool';
    case Type.Utf8: case Type.LargeUtf8: return 'str';
    case Type.Dictionary: return isStringDictionary(type) ? 'str' : 'other';
    case Type.Date: case Type.Timestamp: return 'temporal';
    case Type.Null: return 'null';
    default: return 'other';
  }
}

export const isNumber = (t: Typed) => { const c = categoryOf(t.type); return c === 'int' || c === 'float'; };
export const isNullLiteral = (t: Typed) => t.kind === 'const' && t.type.typeId === Type.Null;

/** Bound on |value| of an integer type. */
export function intBound(type: DataType): number {
  if (type.typeId !== Type.Int) return Infinity;
  const { bitWidth, isSigned } = type as unknown as { bitWidth: number; isSigned: boolean };
  return isSigned ? 2 ** (bitWidth - 1) : 2 ** bitWidth - 1;
}

export const int64 = (bound: number, allNum: boolean): Info => ({ type: new Int64(), repr: allNum && bound <= EXACT ? 'num' : 'big', bound });
export const float64 = (): Info => ({ type: new Float64(), repr: 'num', bound: Infinity });
export const bool = (): Info => ({ type: new Bool(), repr: 'bool', bound: Infinity });
export const utf8 = (): Info => ({ type: new Utf8(), repr: 'str', bound: Infinity });
export const nullInfo = (): Info => ({ type: new Null(), repr: 'none', bound: Infinity });

/** A constant node (a literal, or something computed from literals). */
export function constNode(vec: Vec, info: Info, at: { pos: number; end: number; source: string }): Typed {
  return { kind: 'const', vec: { ...vec, scalar: true }, type: info.type, repr: info.repr, bound: info.bound, pos: at.pos, end: at.end, source: at.source };
}

/** "a number", "a string", ...: what a category is called in messages. */
export function describeCategory(t: Typed): string {
  switch (categoryOf(t.type)) {
    case 'int': case 'float': return 'a number';
    case 'bool': return 'a bool';
    case 'str': return t.kind === 'const' ? 'a string, timestamp or date' : 'a string';
    case 'temporal': return 'a timestamp or date';
    default: return typeName(t.type);
  }
}

/** State of one compilation: the text (for messages) and error builders. */
export class Checker {
  constructor(readonly text: string) {}

  fail(message: string, pos?: number, hint?: string): Error {
    return expressionError(this.text, message, pos, hint);
  }

  /** `column 'x'`, `'x + 1'` or a literal as written, to name a part of the expression. */
  describe(t: Typed): string {
    if (t.kind === 'column') return `column '${t.name}'`;
    return /^(['"]).*\1$/s.test(t.source) ? t.source : `'${t.source}'`;
  }

  /**
   * `t` cannot be used by `what` (an operator or function), which needs `expected`. A column from
   * the input is a ColumnTypeError, so validation names the stage it came from; anything else
   * (a sub-expression, a column derived in the same stage) is a SchemaError quoting the expression.
   */
  wrongType(t: Typed, expected: string, what: string): Error {
    if (t.kind === 'column' && !t.derived) return new ColumnTypeError(t.name, expected, typeName(t.type));
    return this.fail(`${what} needs ${expected}, but ${this.describe(t)} is ${typeName(t.type)}`, t.pos);
  }

  requireNumber(t: Typed, what: string): void {
    if (!isNumber(t) && categoryOf(t.type) !== 'null') throw this.wrongType(t, 'a number', what);
  }

  /** Changes `t` to representation `repr` (a constant is converted now, anything else when run). */
  as(t: Typed, info: Info): Typed {
    if (t.repr === info.repr && t.type.typeId !== Type.Null) return t;
    if (t.kind === 'const') {
      if (isNullLiteral(t) || categoryOf(t.type) === 'null') return constNode(constant(null, info.repr), info, t);
      const value = scalarValue(t.vec);
      if (info.repr === 'big' && typeof value === 'number') return constNode(constant(BigInt(value), 'big'), { ...t, repr: 'big' }, t);
      if (info.repr === 'num' && typeof value === 'bigint') return constNode(constant(Number(value), 'num'), { ...t, repr: 'num' }, t);
    }
    if (t.repr === info.repr) return t;
    if (t.repr === 'none' && categoryOf(t.type) === 'null') {
      // A column of the null type: every row null, in whatever form is needed.
      return constNode(constant(null, info.repr), info, t);
    }
    return { kind: 'convert', operand: t, type: t.type, repr: info.repr, bound: t.bound, pos: t.pos, end: t.end, source: t.source };
  }

  /** A string literal compared with or merged into a timestamp/date column: parsed now. */
  instant(t: Typed): bigint {
    const text = String(scalarValue((t as Extract<Typed, { kind: 'const' }>).vec));
    const ns = parseInstant(text);
    if (ns === undefined) {
      throw this.fail(`'${text}' is not a date or time`, t.pos, `write ISO 8601, e.g. '2020-01-31', '2020-01-31T09:30:00' or '2020-01-31T09:30:00+01:00'`);
    }
    return ns;
  }

  /**
   * One type for values that end up in one column (if, coalesce, min, max): numbers become int64
   * (all integers) or float64; bools, strings, and timestamps/dates of one type stay as they are
   * (string literals among timestamps are parsed). Returns the type and the args converted to it.
   */
  unify(args: Typed[], what: string, allowed: Category[]): { info: Info; args: Typed[] } {
    const typed = args.filter((a) => categoryOf(a.type) !== 'null');
    if (typed.length === 0) return { info: nullInfo(), args };
    for (const a of typed) {
      if (!allowed.includes(categoryOf(a.type))) {
        // "a number, timestamp or date"
        const words = [...new Set(allowed.flatMap((c) => ({ int: ['number'], float: ['number'], bool: ['bool'], str: ['string'], temporal: ['timestamp', 'date'] } as Record<string, string[]>)[c]))];
        throw this.wrongType(a, `a ${words.join(', ').replace(/, ([^,]*)$/, ' or $1')}`, what);
      }
    }
    // Timestamps decide over string literals: '2020-01-01' among timestamps is a timestamp.
    const temporal = typed.find((a) => categoryOf(a.type) === 'temporal');
    const first = temporal ?? typed[0];
    const category = categoryOf(first.type);
    const mismatch = (a: Typed) => {
      if (a.kind === 'column' && !a.derived && first.kind !== 'column') return new ColumnTypeError(a.name, describeCategory(first), typeName(a.type));
      return this.fail(`${what} needs values of one type, but ${this.describe(first)} is ${typeName(first.type)} and ${this.describe(a)} is ${typeName(a.type)}`, a.pos);
    };
    if (category === 'int' || category === 'float') {
      for (const a of typed) if (!isNumber(a)) throw mismatch(a);
      if (typed.every((a) => categoryOf(a.type) === 'int')) {
        const info = int64(Math.max(...typed.map((a) => a.bound)), typed.every((a) => a.repr === 'num'));
        return { info, args: args.map((a) => this.as(a, info)) };
      }
      const info = float64();
      return { info, args: args.map((a) => this.as(a, info)) };
    }
    if (category === 'temporal') {
      const name = typeName(first.type);
      const info: Info = { type: first.type, repr: first.repr, bound: Infinity };
      const out = args.map((a) => {
        if (categoryOf(a.type) === 'null') return this.as(a, info);
        if (categoryOf(a.type) === 'str' && a.kind === 'const') {
          const ns = this.instant(a);
          const unit = unitNanos(first.type);
          if (ns % unit !== 0n) throw this.fail(`'${scalarValue(a.vec)}' is finer than ${name} can hold`, a.pos);
          const value = floorDiv(ns, unit);
          return constNode(constant(first.repr === 'big' ? value : Number(value), first.repr), info, a);
        }
        if (typeName(a.type) !== name) throw mismatch(a);
        return a;
      });
      return { info, args: out };
    }
    for (const a of typed) if (categoryOf(a.type) !== category) throw mismatch(a);
    const info: Info = category === 'str' ? utf8() : category === 'bool' ? bool() : { type: first.type, repr: reprOf(first.type) ?? 'none', bound: Infinity };
    return { info, args: args.map((a) => this.as(a, info)) };
  }
}
