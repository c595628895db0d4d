// A verifier for the flatbuffers of Arrow IPC metadata (Message.fbs, Schema.fbs, File.fbs), run
// before Arrow JS decodes them. The flatbuffers JS runtime checks nothing: an offset past the end
// reads as 0, a vector may claim 2^31 elements, a child offset may point back at its parent. On a
// damaged file Arrow JS then loops for minutes over a vector that is not there, recurses forever,
// or allocates without bound. This walks the same tables, vectors and strings Arrow JS reads (with
// the same signed reads it makes) and checks each lies inside the bytes; nesting and the number of
// tables visited are bounded, so the walk, and the decode after it, is linear in the input.
import { InputError } from '../../src/workflow/errors.ts';

type Kind =
  | { k: 'scalar'; size: number }
  | { k: 'string' }
  | { k: 'table'; spec: () => Spec }
  | { k: 'tables'; spec: () => Spec }
  | { k: 'structs'; size: number }
  | { k: 'union'; typeField: number; specs: () => Record<number, Spec> };
/** A table's fields by id; a missing id is not checked (Arrow JS does not read it). */
type Spec = (Kind | undefined)[];

const scalar = (size: number): Kind => ({ k: 'scalar', size });
const string: Kind = { k: 'string' };
const table = (spec: () => Spec): Kind => ({ k: 'table', spec });
const tables = (spec: () => Spec): Kind => ({ k: 'tables', spec });
const structs = (size: number): Kind => ({ k: 'structs', size });

const keyValue: Spec = [string, string];
const intType: Spec = [scalar(4), scalar(1)];
const dictionaryEncoding: Spec = [scalar(8), table(() => intType), scalar(1), scalar(2)];
/** Members of the Type union with more than scalars in them; the others are checked as bare tables. */
const types: Record<number, Spec> = {
  2: intType,
  10: [scalar(2), string], // Timestamp: unit, timezone
  14: [scalar(2), structs(4)], // Union: mode, typeIds
};
const field: Spec = [
  string, scalar(1), scalar(1), { k: 'union', typeField: 2, specs: () => types },
  table(() => dictionaryEncoding), tables(() => field), tables(() => keyValue),
];
const schema: Spec = [scalar(2), tables(() => field), tables(() => keyValue), structs(8)];
const recordBatch: Spec = [scalar(8), structs(16), structs(16), table(() => [scalar(1), scalar(1)]), structs(8)];
const dictionaryBatch: Spec = [scalar(8), table(() => recordBatch), scalar(1)];
const message: Spec = [
  scalar(2), scalar(1), { k: 'union', typeField: 1, specs: () => ({ 1: schema, 2: dictionaryBatch, 3: recordBatch }) }, scalar(8), tables(() => keyValue),
];
const footer: Spec = [scalar(2), table(() => schema), structs(24), structs(24), tables(() => keyValue)];

const MAX_DEPTH = 128;

class Verifier {
  private readonly view: DataView;
  private visits = 0;
  private readonly maxVisits: number;

  constructor(private readonly bytes: Uint8Array, private readonly file: string, private readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // A table takes at least 4 bytes of its own: more visits than that means tables are shared (a loop).
    this.maxVisits = 16 + bytes.byteLength / 4;
  }

  private fail(why: string): never {
    throw new InputError(this.file, `corrupt ${this.what}: ${why}`);
  }

  private int32(at: number): number {
    if (!(at >= 0 && at + 4 <= this.bytes.byteLength)) this.fail(`an offset points to byte ${at}, outside its ${this.bytes.byteLength} bytes`);
    return this.view.getInt32(at, true);
  }

  private int16(at: number): number {
    if (!(at >= 0 && at + 2 <= this.bytes.byteLength)) this.fail(`a vtable entry at byte ${at} lies outside its ${this.bytes.byteLength} bytes`);
    return this.view.getInt16(at, true);
  }

  /** The start and length of the vector whose offset is at `at`, checked to hold `length * size` bytes. */
  private vector(at: number, size: number): [number, number] {
    const start = at + this.int32(at);
    const length = this.int32(start);
    if (length < 0 || start + 4 + length * size > this.bytes.byteLength) {
      this.fail(`a vector at byte ${start} claims ${length} elements of ${size} bytes, more than its ${this.bytes.byteLength} bytes hold`);
    }
    return [start + 4, length];
  }

  table(pos: number, spec: Spec, depth: number): void {
    if (++this.visits > this.maxVisits) this.fail('more tables than its bytes can hold (tables that point at each other?)');
    if (depth > MAX_DEPTH) this.fail(`tables nested more than ${MAX_DEPTH} deep`);
    const vtable = pos - this.int32(pos);
    const vtableSize = this.int16(vtable);
    const tableSize = this.int16(vtable + 2);
    if (vtableSize < 4 || vtableSize & 1 || vtable + vtableSize > this.bytes.byteLength || tableSize < 4 || pos + tableSize > this.bytes.byteLength) {
      this.fail(`the table at byte ${pos} has an impossible vtable`);
    }
    const offsetOf = (id: number) => (4 + 2 * id < vtableSize ? this.int16(vtable + 4 + 2 * id) : 0);
    spec.forEach((kind, id) => {
      if (!kind) return;
      const offset = offsetOf(id);
      if (offset === 0) return;
      const size = kind.k === 'scalar' ? kind.size : 4;
      if (offset < 4 || offset + size > tableSize) this.fail(`field ${id} of the table at byte ${pos} lies outside it`);
      const at = pos + offset;
      switch (kind.k) {
        case 'scalar':
          return;
        case 'string':
          this.vector(at, 1);
          return;
        case 'structs':
          this.vector(at, kind.size);
          return;
        case 'table':
          this.table(at + this.int32(at), kind.spec(), depth + 1);
          return;
        case 'tables': {
          const [start, length] = this.vector(at, 4);
          const member = kind.spec();
          for (let i = 0; i < length; i++) {
            const element = start + 4 * i;
            this.table(element + this.int32(element), member, depth + 1);
          }
          return;
        }
        case 'union': {
          const typeOffset = offsetOf(kind.typeField);
          const type = typeOffset > 0 && typeOffset < tableSize ? this.bytes[pos + typeOffset] : 0;
          this.table(at + this.int32(at), kind.specs()[type] ?? [], depth + 1);
          return;
        }
      }
    });
  }

  root(spec: Spec): void {
    this.table(this.int32(0), spec, 0);
  }
}

/** Checks a Message flatbuffer (a schema, dictionary or record batch header) before Arrow JS decodes it. */
export function verifyMessage(metadata: Uint8Array, file: string, what = 'message header'): void {
  new Verifier(metadata, file, what).root(message);
}

/** Checks the file format's Footer flatbuffer before Arrow JS decodes it. */
export function verifyFooter(bytes: Uint8Array, file: string): void {
  new Verifier(bytes, file, 'footer').root(footer);
}
