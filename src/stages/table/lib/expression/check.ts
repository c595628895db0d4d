// Syntax tree + input schema -> typed tree. Every type rule of the language lives here or in the
// function table, and every type problem is found here, before any data is read. Parts made only
// of literals are computed once, here ("constant folding").
import { Schema } from 'apache-arrow';
import { typeName } from '../../../../arrow/types.ts';
import { ColumnTypeError, MissingColumnError } from '../../../../workflow/errors.ts';
import { evaluate } from './evaluate.ts';
import { functions } from './functions.ts';
import { flip } from './kernels.ts';
import type { ArithmeticOp, ComparisonOp, Node } from './parser.ts';
import { floorDiv, unitNanos } from './temporal.ts';
import {
  bool, categoryOf, Checker, constNode, describeCategory, float64, int64, intBound, isNullLiteral, MAY_OVERFLOW, nullInfo, utf8,
  type Info, type Typed,
} from './typing.ts';
import { constant, INT64_MAX, INT64_MIN, reprOf } from './vectors.ts';

export interface CheckOptions {
  /** Columns of the schema made earlier in the same stage (derive): type errors on them are not the input's fault. */
  derived?: ReadonlySet<string>;
}

interface At {
  pos: number;
  end: number;
  source: string;
}

const children = (t: Typed): Typed[] => {
  switch (t.kind) {
    case 'const': case 'column': return [];
    case 'convert': case 'negate': case 'known': case 'not': return [t.operand];
    case 'arith': case 'compare': case 'logic': return [t.left, t.right];
    case 'call': return t.args;
  }
};

const numeric = (t: Typed) => { const k = categoryOf(t.type); return k === 'int' || k === 'float'; };
const isNullType = (t: Typed) => categoryOf(t.type) === 'null';

export function check(tree: Node, schema: Schema, text: string, options: CheckOptions = {}): Typed {
  const c = new Checker(text);
  const names = schema.fields.map((f) => f.name);
  const atOf = (node: { pos: number; end: number }): At => ({ pos: node.pos, end: node.end, source: text.slice(node.pos, node.end) });
  const nullOf = (info: Info, at: At) => constNode(constant(null, info.repr), info, at);

  /** Computes a node whose inputs are all constants now, once. */
  const fold = (t: Typed): Typed => {
    if (t.kind === 'const' || t.kind === 'column' || !children(t).every((k) => k.kind === 'const')) return t;
    try {
      return constNode(evaluate(t, { n: 1, column: () => { throw new Error('no columns while folding'); } }), t, t);
    } catch (error) {
      throw c.fail((error as Error).message, t.pos);
    }
  };

  const visit = (node: Node): Typed => fold(build(node));

  const build = (node: Node): Typed => {
    const at = atOf(node);
    switch (node.kind) {
      case 'literal': {
        const v = node.value;
        if (typeof v === 'bigint') {
          if (v > INT64_MAX || v < INT64_MIN) {
            throw c.fail(`the integer ${v} does not fit in int64`, node.pos, 'write it with a decimal point or exponent (e.g. 1e19) for a float');
          }
          const info = int64(Number(v < 0n ? -v : v), true);
          return constNode(constant(info.repr === 'big' ? v : Number(v), info.repr), info, at);
        }
        if (typeof v === 'number') return constNode(constant(v, 'num'), float64(), at);
        if (typeof v === 'string') return constNode(constant(v, 'str'), utf8(), at);
        if (typeof v === 'boolean') return constNode(constant(v, 'bool'), bool(), at);
        return constNode(constant(null, 'none'), nullInfo(), at);
      }
      case 'column': {
        const index = names.indexOf(node.name);
        if (index < 0) throw new MissingColumnError(node.name, names);
        const type = schema.fields[index].type;
        return {
          kind: 'column', name: node.name, index, derived: options.derived?.has(node.name) ?? false,
          type, repr: reprOf(type) ?? 'none', bound: intBound(type), ...at,
        };
      }
      case 'unary': {
        const operand = visit(node.operand);
        if (node.op === 'not') {
          if (categoryOf(operand.type) !== 'bool' && !isNullType(operand)) throw c.wrongType(operand, 'a bool', "'not'");
          if (isNullType(operand)) return nullOf(bool(), at);
          return { kind: 'not', operand, ...bool(), ...at };
        }
        c.requireNumber(operand, "'-'");
        if (isNullType(operand)) return nullOf(nullInfo(), at);
        if (categoryOf(operand.type) === 'int') {
          const info = int64(operand.bound, operand.repr === 'num');
          return { kind: 'negate', operand, check: operand.bound >= MAY_OVERFLOW, ...info, ...at };
        }
        return { kind: 'negate', operand: c.as(operand, float64()), check: false, ...float64(), ...at };
      }
      case 'binary': {
        const left = visit(node.left);
        const right = visit(node.right);
        switch (node.op) {
          case 'and': case 'or': {
            for (const side of [left, right]) {
              if (categoryOf(side.type) !== 'bool' && !isNullType(side)) throw c.wrongType(side, 'a bool', `'${node.op}'`);
            }
            return { kind: 'logic', op: node.op, left: c.as(left, bool()), right: c.as(right, bool()), ...bool(), ...at };
          }
          case '==': case '!=': case '<': case '<=': case '>': case '>=':
            return comparison(node.op, left, right, node.opPos, at);
          default:
            return arithmetic(node.op, left, right, at);
        }
      }
      case 'call': {
        const fn = functions.get(node.name.toLowerCase());
        if (!fn) throw c.fail(`unknown function '${node.name}'`, node.pos, `the functions are ${[...functions.keys()].join(', ')}`);
        const count = node.args.length;
        if (count < fn.minArgs || count > fn.maxArgs) {
          const takes = fn.minArgs === fn.maxArgs ? `${fn.minArgs}`
            : count > fn.maxArgs ? `at most ${fn.maxArgs}`
            : fn.maxArgs > 100 ? `at least ${fn.minArgs}` : `${fn.minArgs} or ${fn.maxArgs}`;
          throw c.fail(`${fn.signature} takes ${takes} argument${takes === '1' ? '' : 's'}, but got ${count}`, node.pos);
        }
        const args = node.args.map(visit);
        const result = fn.check(args, c);
        if (!fn.handlesNulls && args.some(isNullType)) return nullOf(result.info, at);
        return { kind: 'call', fn, args: result.args ?? args, options: result.options, ...result.info, ...at };
      }
    }
  };

  const arithmetic = (op: ArithmeticOp, left: Typed, right: Typed, at: At): Typed => {
    c.requireNumber(left, `'${op}'`);
    c.requireNumber(right, `'${op}'`);
    const ints = categoryOf(left.type) === 'int' && categoryOf(right.type) === 'int';
    if (isNullType(left) || isNullType(right)) {
      const other = isNullType(left) ? right : left;
      if (isNullType(other)) return nullOf(op === '/' ? float64() : nullInfo(), at);
      return nullOf(op !== '/' && categoryOf(other.type) === 'int' ? int64(0, true) : float64(), at);
    }
    if (!ints || op === '/') {
      // Any float, or '/': IEEE float64 (x/0 = ±Infinity, 0/0 = NaN).
      const info = float64();
      return { kind: 'arith', op, left: c.as(left, info), right: c.as(right, info), check: false, ...info, ...at };
    }
    // Integers: int64, exact. Bounds say whether doubles suffice and whether overflow is possible.
    const bound = op === '+' || op === '-' ? left.bound + right.bound : op === '*' ? left.bound * right.bound : Math.min(left.bound, right.bound);
    const info = int64(bound, left.repr === 'num' && right.repr === 'num');
    return {
      kind: 'arith', op, left: c.as(left, info), right: c.as(right, info), check: op !== '%' && bound >= MAY_OVERFLOW, ...info, ...at,
    };
  };

  const comparison = (op: ComparisonOp, left: Typed, right: Typed, opPos: number, at: At): Typed => {
    if (isNullLiteral(left) || isNullLiteral(right)) {
      throw c.fail(`comparing with null`, opPos, 'that gives null in every row; use is_null(x) or not is_null(x)');
    }
    if (isNullType(left) || isNullType(right)) return nullOf(bool(), at);
    const cl = categoryOf(left.type);
    const cr = categoryOf(right.type);
    const node = (l: Typed, r: Typed, scale?: [bigint, bigint]): Typed => ({ kind: 'compare', op, left: l, right: r, scale, ...bool(), ...at });
    if (numeric(left) && numeric(right)) {
      // An integer constant beside an int64 column becomes int64 too: the loop then stays in BigInt.
      const big = (t: Typed, other: Typed) =>
        other.repr === 'big' && t.kind === 'const' && categoryOf(t.type) === 'int' ? c.as(t, { ...t, repr: 'big' }) : t;
      return node(big(left, right), big(right, left));
    }
    if (cl === 'str' && cr === 'str') return node(left, right);
    if (cl === 'bool' && cr === 'bool') {
      if (op !== '==' && op !== '!=') throw c.fail(`bools can only be compared with == or !=, not '${op}'`, opPos);
      return node(left, right);
    }
    if (cl === 'temporal' && cr === 'temporal') {
      const ua = unitNanos(left.type);
      const ub = unitNanos(right.type);
      if (ua === ub && left.repr === right.repr) return node(left, right);
      const common = ua < ub ? ua : ub;
      return node(left, right, [ua / common, ub / common]);
    }
    if (cl === 'temporal' && cr === 'str' && right.kind === 'const') return temporalLiteral(op, left, right, at);
    if (cr === 'temporal' && cl === 'str' && left.kind === 'const') return temporalLiteral(flip[op], right, left, at);
    if ((cl === 'temporal' && cr === 'str') || (cr === 'temporal' && cl === 'str')) {
      const str = cl === 'str' ? left : right;
      throw c.fail(`cannot compare a timestamp or date with ${c.describe(str)}`, str.pos, `compare with a string literal such as '2020-01-31'`);
    }
    // Mismatch: a column facing a literal or an expression is the one with the wrong type.
    const lCol = left.kind === 'column' && !left.derived;
    const rCol = right.kind === 'column' && !right.derived;
    if (left.kind === 'column' && lCol && !(right.kind === 'column')) throw new ColumnTypeError(left.name, describeCategory(right), typeName(left.type));
    if (right.kind === 'column' && rCol && !(left.kind === 'column')) throw new ColumnTypeError(right.name, describeCategory(left), typeName(right.type));
    throw c.fail(`cannot compare ${c.describe(left)} (${typeName(left.type)}) with ${c.describe(right)} (${typeName(right.type)})`, opPos);
  };

  /** `column op 'ISO text'`, the literal parsed now and brought to the column's unit. */
  const temporalLiteral = (op: ComparisonOp, column: Typed, literal: Typed, at: At): Typed => {
    const ns = c.instant(literal);
    const unit = unitNanos(column.type);
    const q = floorDiv(ns, unit);
    const known = (value: boolean): Typed => ({ kind: 'known', value, operand: column, ...bool(), ...at });
    if (q * unit !== ns) {
      // The literal falls between two representable values q and q+1: x == it never holds,
      // x < it is x <= q, x > it is x > q.
      if (op === '==' || op === '!=') return known(op === '!=');
      op = op === '<' || op === '<=' ? '<=' : '>';
    }
    if (column.repr === 'big' && (q > INT64_MAX || q < INT64_MIN)) {
      const below = q > INT64_MAX; // every value is below the literal
      return known(op === '!=' || (below ? op === '<' || op === '<=' : op === '>' || op === '>='));
    }
    const info: Info = { type: column.type, repr: column.repr, bound: Infinity };
    const value = constNode(constant(column.repr === 'big' ? q : Number(q), column.repr), info, literal);
    return { kind: 'compare', op, left: column, right: value, ...bool(), ...at };
  };

  return visit(tree);
}
