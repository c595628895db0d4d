// Expression text -> syntax tree, by recursive descent, one function per precedence level
// (loosest first): or, and, not, comparison, + -, * / %, unary -, then values.
import { expressionError } from './errors.ts';
import { tokenize, type Token } from './lexer.ts';

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%';
export type ComparisonOp = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type BinaryOp = ArithmeticOp | ComparisonOp | 'and' | 'or';

/** Every node spans source characters [pos, end). */
export type Node =
  /** Integer literals are bigint (exact up to any size; range is checked later), decimals number. */
  | { kind: 'literal'; value: bigint | number | string | boolean | null; pos: number; end: number }
  | { kind: 'column'; name: string; pos: number; end: number }
  | { kind: 'unary'; op: '-' | 'not'; operand: Node; pos: number; end: number }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; opPos: number; pos: number; end: number }
  | { kind: 'call'; name: string; args: Node[]; pos: number; end: number };

const comparisons = new Set<string>(['==', '!=', '<', '<=', '>', '>=']);

function describe(token: Token): string {
  switch (token.kind) {
    case 'end': return 'end of expression';
    case 'number': return `'${token.text}'`;
    case 'string': return 'a string';
    case 'name': return token.quoted ? `\`${token.name}\`` : `'${token.name}'`;
    case 'keyword': return `'${token.word}'`;
    case 'op': return `'${token.op}'`;
  }
}

export function parse(text: string): Node {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const isOp = (op: string) => { const t = tokens[at]; return t.kind === 'op' && t.op === op; };
  const isKeyword = (word: string) => { const t = tokens[at]; return t.kind === 'keyword' && t.word === word; };
  const unexpected = (expected: string) => {
    const t = peek();
    return expressionError(text, `unexpected ${describe(t)}`, t.pos, `expected ${expected}`);
  };

  const parseOr = (): Node => {
    let left = parseAnd();
    while (isKeyword('or')) {
      const opPos = tokens[at++].pos;
      const right = parseAnd();
      left = { kind: 'binary', op: 'or', left, right, opPos, pos: left.pos, end: right.end };
    }
    return left;
  };

  const parseAnd = (): Node => {
    let left = parseNot();
    while (isKeyword('and')) {
      const opPos = tokens[at++].pos;
      const right = parseNot();
      left = { kind: 'binary', op: 'and', left, right, opPos, pos: left.pos, end: right.end };
    }
    return left;
  };

  const parseNot = (): Node => {
    if (isKeyword('not')) {
      const pos = tokens[at++].pos;
      const operand = parseNot();
      return { kind: 'unary', op: 'not', operand, pos, end: operand.end };
    }
    return parseComparison();
  };

  const parseComparison = (): Node => {
    const left = parseAdditive();
    const t = peek();
    if (t.kind !== 'op' || !comparisons.has(t.op)) return left;
    at++;
    const right = parseAdditive();
    const next = peek();
    // `a < b < c` would compare a bool with c; say what to write instead.
    if (next.kind === 'op' && comparisons.has(next.op)) {
      throw expressionError(text, `a second comparison`, next.pos, `comparisons do not chain: write 'a < b and b < c'`);
    }
    return { kind: 'binary', op: t.op as ComparisonOp, left, right, opPos: t.pos, pos: left.pos, end: right.end };
  };

  const parseAdditive = (): Node => {
    let left = parseMultiplicative();
    for (;;) {
      const t = peek();
      if (t.kind !== 'op' || (t.op !== '+' && t.op !== '-')) return left;
      at++;
      const right = parseMultiplicative();
      left = { kind: 'binary', op: t.op, left, right, opPos: t.pos, pos: left.pos, end: right.end };
    }
  };

  const parseMultiplicative = (): Node => {
    let left = parseUnary();
    for (;;) {
      const t = peek();
      if (t.kind !== 'op' || (t.op !== '*' && t.op !== '/' && t.op !== '%')) return left;
      at++;
      const right = parseUnary();
      left = { kind: 'binary', op: t.op, left, right, opPos: t.pos, pos: left.pos, end: right.end };
    }
  };

  const parseUnary = (): Node => {
    if (isOp('-')) {
      const pos = tokens[at++].pos;
      const operand = parseUnary();
      // A negative number is a literal, so -9223372036854775808 (the smallest int64) is writable.
      if (operand.kind === 'literal' && (typeof operand.value === 'bigint' || typeof operand.value === 'number')) {
        return { kind: 'literal', value: -operand.value, pos, end: operand.end };
      }
      return { kind: 'unary', op: '-', operand, pos, end: operand.end };
    }
    return parsePrimary();
  };

  const parsePrimary = (): Node => {
    const t = peek();
    switch (t.kind) {
      case 'number':
        at++;
        return { kind: 'literal', value: t.integer ? BigInt(t.text) : Number(t.text), pos: t.pos, end: t.end };
      case 'string':
        at++;
        return { kind: 'literal', value: t.value, pos: t.pos, end: t.end };
      case 'keyword':
        if (t.word === 'true' || t.word === 'false' || t.word === 'null') {
          at++;
          return { kind: 'literal', value: t.word === 'null' ? null : t.word === 'true', pos: t.pos, end: t.end };
        }
        if (t.word === 'not') throw expressionError(text, `unexpected 'not'`, t.pos, `put 'not ...' in parentheses here`);
        throw unexpected('a value');
      case 'name': {
        at++;
        if (!t.quoted && isOp('(')) {
          at++;
          const args: Node[] = [];
          if (!isOp(')')) {
            for (;;) {
              args.push(parseOr());
              if (isOp(',')) { at++; continue; }
              if (isOp(')')) break;
              throw unexpected(`',' or ')' in the arguments of ${t.name}()`);
            }
          }
          const end = tokens[at++].end;
          return { kind: 'call', name: t.name, args, pos: t.pos, end };
        }
        return { kind: 'column', name: t.name, pos: t.pos, end: t.end };
      }
      case 'op':
        if (t.op === '(') {
          at++;
          const inner = parseOr();
          if (!isOp(')')) throw unexpected(`')' to close the '(' at position ${t.pos}`);
          at++;
          return inner;
        }
        throw unexpected('a value');
      case 'end':
        throw unexpected('a value');
    }
  };

  if (text.trim() === '') throw expressionError(text, 'the expression is empty');
  const tree = parseOr();
  if (peek().kind !== 'end') throw unexpected('an operator or the end of the expression');
  return tree;
}
