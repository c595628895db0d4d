// A model artifact as one Arrow row, so a trained model flows to a sink like any other data.
import { Binary, Field, Schema, Utf8, vectorFromArray, type RecordBatch } from 'apache-arrow';
import { makeBatch } from '../arrow/batch.ts';
import type { ModelBytes } from './artifact.ts';

export const artifactSchema = new Schema([
  new Field('model', new Utf8(), false), new Field('weights', new Binary(), false), new Field('card', new Utf8(), false),
]);

export function artifactBatch(bytes: ModelBytes): RecordBatch {
  return makeBatch(artifactSchema, [
    vectorFromArray([bytes.model], new Utf8()).data[0],
    vectorFromArray([bytes.weights], new Binary()).data[0],
    vectorFromArray([JSON.stringify(bytes.card)], new Utf8()).data[0],
  ], 1);
}

export function artifactFromRow(batch: RecordBatch, row: number): ModelBytes {
  return {
    model: batch.getChild('model')!.get(row) as string,
    weights: batch.getChild('weights')!.get(row) as Uint8Array,
    card: JSON.parse(batch.getChild('card')!.get(row) as string),
  };
}
