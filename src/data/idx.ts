// IDX reader (the MNIST family's format), gzipped or raw. The whole file is small enough (≤ 47 MB
// unpacked) to inflate in one call; the images are returned as a view on that buffer, no copy.
// Every check that can fail says which file and what is wrong, so a bad file is never used.
import { promises as fs } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { VdsError } from '../util/errors.ts';
import { isGzip, looksLikeText } from './sniff.ts';

export interface IdxArray {
  dims: number[];
  data: Uint8Array; // unsigned bytes, row-major
}

export interface IdxReadOptions {
  hint?: string; // how to fix a bad file, e.g. "run `vds data fetch mnist`"
  key?: string; // the config key a bad value relates to (data.classes for labels out of range)
}

export const DEFAULT_HINT = 'replace it with a good copy (official datasets: `vds data fetch <name>`)';

function fail(file: string, what: string, o: IdxReadOptions): never {
  throw new VdsError(what, { file, key: o.key, hint: o.hint ?? DEFAULT_HINT });
}

/** Parse IDX bytes (already inflated). Only unsigned-byte data (type 0x08) is accepted: MNIST's kind. */
export function parseIdx(bytes: Uint8Array, file: string, o: IdxReadOptions = {}): IdxArray {
  if (bytes.length < 4) fail(file, `not an IDX file: only ${bytes.length} bytes`, o);
  const text = looksLikeText(bytes);
  if (text) fail(file, `not an IDX file: it is ${text}`, o);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Buffer.from(bytes.subarray(0, 4)).toString('hex');
    fail(file, `wrong IDX magic 0x${magic}: expected 0x0000 then type and rank (e.g. 0x00000803 for images)`, o);
  }
  if (bytes[2] !== 0x08) fail(file, `IDX data type 0x${bytes[2].toString(16)} is not unsigned byte (0x08)`, o);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) fail(file, `IDX rank ${rank} is not 1..4`, o);
  const header = 4 + 4 * rank;
  if (bytes.length < header) fail(file, `IDX header needs ${header} bytes, the file has ${bytes.length}`, o);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  if (header + count !== bytes.length) {
    fail(file, `IDX header says dims [${dims.join(', ')}] = ${header + count} bytes, but the data is ${bytes.length} bytes`, o);
  }
  return { dims, data: new Uint8Array(bytes.buffer, bytes.byteOffset + header, count) };
}

/** Read an IDX file from disk, inflating it when it is gzipped (by content, not by name). */
export async function readIdx(file: string, o: IdxReadOptions = {}): Promise<IdxArray> {
  let raw: Buffer;
  try {
    raw = await fs.readFile(file);
  } catch (e) {
    fail(file, `cannot read: ${(e as Error).message}`, o);
  }
  let bytes: Uint8Array = raw;
  if (isGzip(raw)) {
    try {
      bytes = gunzipSync(raw);
    } catch (e) {
      fail(file, `corrupt or truncated gzip (${(e as Error).message})`, o);
    }
  } else if (file.endsWith('.gz')) {
    const text = looksLikeText(raw);
    fail(file, text ? `not gzip: it is ${text}` : 'named .gz but not gzip data (no 1f 8b signature)', o);
  }
  return parseIdx(bytes, file, o);
}

export interface LabelledImages {
  n: number;
  shape: [number, number, number]; // [h, w, c]
  x: Uint8Array; // NHWC
  y: Uint8Array;
}

/** An images file and a labels file that belong together: counts agree, labels within 0..classes-1. */
export async function readIdxPair(imagesFile: string, labelsFile: string, classes: number, o: IdxReadOptions = {}): Promise<LabelledImages> {
  const [img, lab] = await Promise.all([readIdx(imagesFile, o), readIdx(labelsFile, o)]);
  if (img.dims.length !== 3 && img.dims.length !== 4) {
    fail(imagesFile, `images must have 3 dims [n, h, w] (or 4 with channels), found [${img.dims.join(', ')}]`, o);
  }
  if (lab.dims.length !== 1) fail(labelsFile, `labels must have 1 dim [n], found [${lab.dims.join(', ')}]`, o);
  const n = img.dims[0];
  if (lab.dims[0] !== n) {
    fail(labelsFile, `${lab.dims[0]} labels but ${imagesFile} has ${n} images`, o);
  }
  const y = lab.data;
  for (let i = 0; i < n; i++) {
    if (y[i] >= classes) fail(labelsFile, `label ${y[i]} at index ${i} is outside the classes 0..${classes - 1}`, o);
  }
  const shape: [number, number, number] = [img.dims[1], img.dims[2], img.dims[3] ?? 1];
  return { n, shape, x: img.data, y };
}
