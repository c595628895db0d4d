// Runs a typed tree over a batch: each node turns its children's whole columns into one column.
// Nothing here decides types; the checker has already chosen representations and kernels.
import { Type } from 'apache-arrow';
import { arithBig, arithNum, compareBig, compareBool, compareMixed, compareNum, compareStr, logic, not, nullWhereZero, negateBig } from './kernels.ts';
import type { Typed } from './typing.ts';
import { allValid, bigs, nums, type BigVec, type BoolVec, type NumVec, type StrVec, type Vec } from './vectors.ts';

export interface Frame {
  /** Rows in the batch (1 when folding constants). */
  n: number;
  /** The column at a schema index, read once per batch. */
  column(index: number): Vec;
}

const overflowOf = (node: Typed) => () => new Error(`integer overflow in '${node.source}': the result does not fit in int64`);

export function evaluate(node: Typed, frame: Frame): Vec {
  const { n } = frame;
  switch (node.kind) {
    case 'const':
      return node.vec;
    case 'column':
      return frame.column(node.index);
    case 'convert': {
      const v = evaluate(node.operand, frame) as NumVec | BigVec;
      const values = node.repr === 'big' ? bigs(v, v.valid, overflowOf(node)) : nums(v);
      return { repr: node.repr, values, valid: v.valid, scalar: v.scalar } as Vec;
    }
    case 'negate': {
      const v = evaluate(node.operand, frame) as NumVec | BigVec;
      const m = v.scalar ? 1 : n;
      if (v.repr === 'big') return { repr: 'big', values: negateBig(bigs(v, v.valid, overflowOf(node)), m, v.valid, overflowOf(node)), valid: v.valid, scalar: v.scalar };
      const out = v.owned && v.values instanceof Float64Array ? v.values : new Float64Array(m);
      for (let i = 0; i < m; i++) out[i] = -v.values[i];
      return { repr: 'num', values: out, valid: v.valid, scalar: v.scalar, owned: true };
    }
    case 'arith': {
      const a = evaluate(node.left, frame) as NumVec | BigVec;
      const b = evaluate(node.right, frame) as NumVec | BigVec;
      let valid = allValid([a, b], n);
      const integer = node.type.typeId === Type.Int; // integer '%' by zero gives null
      if (node.repr === 'big') {
        const overflow = overflowOf(node);
        const x = bigs(a, a.valid, overflow);
        const y = bigs(b, b.valid, overflow);
        if (node.op === '%') valid = nullWhereZero(y, b.scalar, valid, n);
        return { repr: 'big', values: arithBig(node.op, x, a.scalar, y, b.scalar, n, valid, node.check, overflow), valid, scalar: false };
      }
      const x = nums(a);
      const y = nums(b);
      if (integer && node.op === '%') valid = nullWhereZero(y, b.scalar, valid, n);
      // Write into an operand's array when it was made only for this node.
      const into = a.owned && !a.scalar && x instanceof Float64Array ? x : b.owned && !b.scalar && y instanceof Float64Array ? y : undefined;
      return { repr: 'num', values: arithNum(node.op, x, a.scalar, y, b.scalar, n, into), valid, scalar: false, owned: true };
    }
    case 'compare': {
      const a = evaluate(node.left, frame);
      const b = evaluate(node.right, frame);
      const valid = allValid([a, b], n);
      let values: Uint8Array;
      if (a.repr === 'str') values = compareStr(node.op, a, b as StrVec, n);
      else if (a.repr === 'bool') values = compareBool(node.op as '==' | '!=', a, b as BoolVec, n);
      else {
        const x = a as NumVec | BigVec;
        const y = b as NumVec | BigVec;
        if (node.scale || x.repr !== y.repr) values = compareMixed(node.op, x.values, x.scalar, y.values, y.scalar, n, node.scale);
        else if (x.repr === 'num') values = compareNum(node.op, x.values, x.scalar, (y as NumVec).values, y.scalar, n);
        else values = compareBig(node.op, x.values, x.scalar, (y as BigVec).values, y.scalar, n);
      }
      return { repr: 'bool', values, valid, scalar: false, owned: true };
    }
    case 'known': {
      const v = evaluate(node.operand, frame);
      const m = v.scalar ? 1 : n;
      return { repr: 'bool', values: new Uint8Array(m).fill(node.value ? 1 : 0), valid: v.valid, scalar: v.scalar };
    }
    case 'not':
      return not(evaluate(node.operand, frame) as BoolVec, n);
    case 'logic':
      return logic(node.op, evaluate(node.left, frame) as BoolVec, evaluate(node.right, frame) as BoolVec, n);
    case 'call': {
      const args = node.args.map((a) => evaluate(a, frame));
      return node.fn.run(args, n, node, node.options, overflowOf(node));
    }
  }
}
