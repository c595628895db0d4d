// The grid of a 2-D image tensor column, refused by name when the column is not one.
import type { Schema } from 'apache-arrow';
import { tensorInfo } from '../../../arrow/tensor.ts';
import { SchemaError } from '../../../workflow/errors.ts';
import type { Grid } from './inpainting.ts';

export function imageGrid(schema: Schema, column: string): Grid {
  const { shape } = tensorInfo(schema, column);
  if (shape.length !== 2) throw new SchemaError(`'${column}' must be a 2-D image (rows × columns), not ${shape.join(' × ')}`);
  return { height: shape[0], width: shape[1] };
}

/** Refuses `column` unless it is an image of `grid`'s size. */
export function requireSameGrid(schema: Schema, column: string, grid: Grid, like: string): void {
  const other = imageGrid(schema, column);
  if (other.height !== grid.height || other.width !== grid.width) {
    throw new SchemaError(`'${column}' is ${other.height} × ${other.width}, '${like}' ${grid.height} × ${grid.width}: they must match`);
  }
}
