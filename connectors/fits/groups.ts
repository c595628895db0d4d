// Random groups (FITS 4.0 §6; the uv data of radio interferometers, e.g. the EHT .uvfits): GCOUNT
// groups, each PCOUNT parameters then an array of NAXIS2 × … × NAXISn values, all of type BITPIX.
// Parameter i is PSCALi × stored + PZEROi; parameters sharing a PTYPE name are summed (how AIPS
// splits a date into a day and a fraction to keep its precision). BSCALE/BZERO scale the array.
import { Field, Float64 } from 'apache-arrow';
import type { FitsHeader } from './header.ts';
import { decodePixels, pixelFormat, type PixelFormat } from './image.ts';

export interface GroupsLayout {
  groups: number;
  /** Distinct PTYPE names, in first-seen order, and which parameters add up to each. */
  params: { name: string; members: number[] }[];
  paramCount: number;
  /** C-order shape of one group's array: [NAXISn, …, NAXIS2]. */
  shape: number[];
  format: PixelFormat;
  scales: { scale: number; zero: number }[];
  groupBytes: number;
}

export function groupsLayout(header: FitsHeader): GroupsLayout {
  const naxis = header.integer('NAXIS');
  const shape = Array.from({ length: naxis - 1 }, (_, i) => header.integer(`NAXIS${i + 2}`)).reverse();
  const paramCount = header.integer('PCOUNT', 0);
  const params: GroupsLayout['params'] = [];
  const scales = Array.from({ length: paramCount }, (_, i) => {
    const name = header.string(`PTYPE${i + 1}`)?.trim() || `param${i + 1}`;
    const existing = params.find((p) => p.name === name);
    if (existing) existing.members.push(i);
    else params.push({ name, members: [i] });
    return { scale: header.number(`PSCAL${i + 1}`, 1), zero: header.number(`PZERO${i + 1}`, 0) };
  });
  const bitpix = header.integer('BITPIX');
  const format = pixelFormat(bitpix, header.number('BSCALE', 1), header.number('BZERO', 0), undefined);
  const values = shape.reduce((a, b) => a * b, 1);
  return { groups: header.integer('GCOUNT', 1), params, paramCount, shape, format, scales, groupBytes: (Math.abs(bitpix) / 8) * (paramCount + values) };
}

export const groupParamFields = (layout: GroupsLayout) => layout.params.map((p) => new Field(p.name, new Float64(), false));

/** For `count` groups in `bytes`: each parameter column (float64) and the arrays laid one after another. */
export function decodeGroups(layout: GroupsLayout, bytes: Uint8Array, count: number) {
  const size = Math.abs(layout.format.bitpix) / 8;
  const rawParams = pixelFormat(layout.format.bitpix, 1, 0, undefined);
  const values = layout.shape.reduce((a, b) => a * b, 1);
  const params = layout.params.map(() => new Float64Array(count));
  const arrays = layout.format.kind === 'float32' ? new Float32Array(count * values) : new Float64Array(count * values);
  for (let g = 0; g < count; g++) {
    const at = g * layout.groupBytes;
    const stored = decodePixels(bytes.subarray(at, at + layout.paramCount * size), { ...rawParams, kind: 'float64' });
    layout.params.forEach((p, k) => {
      params[k][g] = p.members.reduce((sum, i) => sum + stored[i] * layout.scales[i].scale + layout.scales[i].zero, 0);
    });
    arrays.set(decodePixels(bytes.subarray(at + layout.paramCount * size, at + layout.groupBytes), layout.format), g * values);
  }
  return { params, arrays };
}
