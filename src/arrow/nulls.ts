// All-null Data of any type: the right-hand row of a left join that found no match, and the
// values of an empty dictionary.
import { Data, Type, Vector, makeData, type DataType, type Dictionary, type Struct } from 'apache-arrow';
import { strideForType } from 'apache-arrow/type';

/** `length` nulls of `type`, with buffers of the right shape (zeroed values, empty strings and lists). */
export function nullData<T extends DataType>(type: T, length: number): Data<T> {
  const nullBitmap = new Uint8Array((length + 7) >> 3);
  const common = { type, length, nullCount: length, nullBitmap } as Record<string, unknown>;
  const t = type as DataType;
  switch (t.typeId) {
    case Type.Null:
      return makeData({ type, length, nullCount: length } as never) as Data<T>;
    case Type.Bool:
      return makeData({ ...common, data: new Uint8Array((length + 7) >> 3) } as never) as Data<T>;
    case Type.Utf8:
    case Type.Binary:
      return makeData({ ...common, valueOffsets: new Int32Array(length + 1), data: new Uint8Array(0) } as never) as Data<T>;
    case Type.LargeUtf8:
    case Type.LargeBinary:
      return makeData({ ...common, valueOffsets: new BigInt64Array(length + 1), data: new Uint8Array(0) } as never) as Data<T>;
    case Type.List:
    case Type.Map:
      return makeData({ ...common, valueOffsets: new Int32Array(length + 1), child: nullData(t.children[0].type, 0) } as never) as Data<T>;
    case Type.LargeList:
      return makeData({ ...common, valueOffsets: new BigInt64Array(length + 1), child: nullData(t.children[0].type, 0) } as never) as Data<T>;
    case Type.FixedSizeList: {
      const size = (t as unknown as { listSize: number }).listSize;
      return makeData({ ...common, child: nullData(t.children[0].type, length * size) } as never) as Data<T>;
    }
    case Type.Struct:
      return makeData({ ...common, children: (t as Struct).children.map((f) => nullData(f.type, length)) } as never) as Data<T>;
    case Type.Dictionary: {
      const d = t as Dictionary;
      const data = new (d.indices.ArrayType as new (n: number) => ArrayBufferView)(length);
      const dictionary = new Vector([nullData(d.dictionary, 0)]);
      return makeData({ ...common, data, dictionary } as never) as Data<T>;
    }
    case Type.Union:
    case Type.Utf8View:
    case Type.BinaryView:
      throw new Error(`null columns of type ${String(type)} are not supported`);
    default: {
      const Ctor = t.ArrayType as new (n: number) => ArrayBufferView;
      return makeData({ ...common, data: new Ctor(length * strideForType(t)) } as never) as Data<T>;
    }
  }
}
