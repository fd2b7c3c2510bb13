// MATLAB v5 .mat reader for the SVHN cropped-digits layout: X uint8 [h, w, c, N] in column-major order,
// y [N, 1] labels 1..10 (10 means digit 0). Variables may be zlib-compressed (the real files are); they
// are inflated as a stream and X is transposed to NHWC while it arrives, so the 1.3 GB `extra` file needs
// little more memory than its decoded images. Every numeric payload is decoded by its own stored type,
// since MATLAB may store a double array with a smaller integer type.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createInflate } from 'node:zlib';
import { VdsError } from '../util/errors.ts';
import { ByteReader, TruncatedError } from './byte-reader.ts';
import { DEFAULT_HINT } from './idx.ts';
import { looksLikeText } from './sniff.ts';

const mi = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15 };
const CLASS_NAMES: Record<number, string> = { 1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64' };
const mxUINT8 = 9;
const NUMERIC_CLASSES = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

export interface MatImages {
  n: number;
  shape: [number, number, number]; // [h, w, c]
  x: Uint8Array; // NHWC
  y: Uint8Array; // 0..9
}

class MatError extends Error {}

interface Ctx {
  le: boolean; // little-endian file
  x?: { dims: number[]; data: Uint8Array };
  yRaw?: { dims: number[]; values: Float64Array; cls: string };
}

const pad8 = (n: number): number => (8 - (n % 8)) % 8;

/** A sub-element tag; small elements (≤ 4 bytes) carry their data inside the tag. */
async function readTag(r: ByteReader, le: boolean): Promise<{ type: number; nbytes: number; small?: Buffer; size: number }> {
  const t = await r.exact(8);
  const w = le ? t.readUInt32LE(0) : t.readUInt32BE(0);
  if (w >>> 16 !== 0) {
    const type = le ? w & 0xffff : w >>> 16;
    const nbytes = le ? w >>> 16 : w & 0xffff;
    return { type, nbytes, small: t.subarray(4, 4 + nbytes), size: 8 };
  }
  const nbytes = le ? t.readUInt32LE(4) : t.readUInt32BE(4);
  return { type: w, nbytes, size: 8 + nbytes + pad8(nbytes) };
}

async function readSubelement(r: ByteReader, le: boolean): Promise<{ type: number; data: Buffer; size: number }> {
  const tag = await readTag(r, le);
  if (tag.small) return { type: tag.type, data: tag.small, size: 8 };
  const data = await r.exact(tag.nbytes);
  await r.skip(pad8(tag.nbytes));
  return { type: tag.type, data, size: tag.size };
}

const ELEM_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };

/** Numbers of any stored type, as doubles. */
function decodeNumbers(type: number, b: Buffer, le: boolean): Float64Array {
  const size = ELEM_BYTES[type];
  if (!size) throw new MatError(`unsupported numeric storage type ${type}`);
  const n = Math.floor(b.length / size);
  const out = new Float64Array(n);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (type) {
      case mi.INT8: out[i] = v.getInt8(o); break;
      case mi.UINT8: out[i] = v.getUint8(o); break;
      case mi.INT16: out[i] = v.getInt16(o, le); break;
      case mi.UINT16: out[i] = v.getUint16(o, le); break;
      case mi.INT32: out[i] = v.getInt32(o, le); break;
      case mi.UINT32: out[i] = v.getUint32(o, le); break;
      case mi.SINGLE: out[i] = v.getFloat32(o, le); break;
      case mi.DOUBLE: out[i] = v.getFloat64(o, le); break;
      case mi.INT64: out[i] = Number(v.getBigInt64(o, le)); break;
      case mi.UINT64: out[i] = Number(v.getBigUint64(o, le)); break;
    }
  }
  return out;
}

/** Source offset (column-major [h,w,c]) → NHWC offset, for one image. */
function transposeTable(h: number, w: number, c: number): Uint32Array {
  const t = new Uint32Array(h * w * c);
  for (let ch = 0; ch < c; ch++) for (let col = 0; col < w; col++) for (let row = 0; row < h; row++) {
    t[row + h * (col + w * ch)] = (row * w + col) * c + ch;
  }
  return t;
}

/** X's payload, streamed straight into NHWC order. */
async function readX(r: ByteReader, ctx: Ctx, dims: number[], tagType: number, nbytes: number): Promise<void> {
  if (dims.length !== 4) throw new MatError(`X has dims [${dims.join(', ')}], expected 4: [height, width, channels, N]`);
  const [h, w, c, n] = dims;
  if (c !== 1 && c !== 3) throw new MatError(`X has ${c} channels (dims [${dims.join(', ')}]), expected 1 or 3`);
  const per = h * w * c;
  const out = new Uint8Array(per * n);
  const table = transposeTable(h, w, c);
  if (tagType === mi.UINT8) {
    if (nbytes !== per * n) throw new MatError(`X payload is ${nbytes} bytes, dims [${dims.join(', ')}] need ${per * n}`);
    let p = 0;
    let base = 0;
    for await (const chunk of r.chunks(nbytes)) {
      for (let i = 0; i < chunk.length; i++) {
        out[base + table[p]] = chunk[i];
        if (++p === per) {
          p = 0;
          base += per;
        }
      }
    }
  } else {
    // Rare: uint8 values stored with another type. Decode all, then check they fit a byte.
    const vals = decodeNumbers(tagType, await r.exact(nbytes), ctx.le);
    if (vals.length !== per * n) throw new MatError(`X holds ${vals.length} values, dims [${dims.join(', ')}] need ${per * n}`);
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i];
      if (!(v >= 0 && v <= 255 && Number.isInteger(v))) throw new MatError(`X value ${v} at ${i} is not a byte`);
      out[Math.floor(i / per) * per + table[i % per]] = v;
    }
  }
  await r.skip(pad8(nbytes));
  ctx.x = { dims, data: out };
}

/** One miMATRIX element of `nbytes`; keeps X and y, skips everything else. */
async function readMatrix(r: ByteReader, ctx: Ctx, nbytes: number): Promise<void> {
  if (nbytes === 0) return; // an empty placeholder
  const start = r.pos;
  const flags = await readSubelement(r, ctx.le);
  const cls = (ctx.le ? flags.data.readUInt32LE(0) : flags.data.readUInt32BE(0)) & 0xff;
  const complex = ((ctx.le ? flags.data.readUInt32LE(0) : flags.data.readUInt32BE(0)) >>> 8) & 0x08;
  const dimsEl = await readSubelement(r, ctx.le);
  const dims = Array.from(decodeNumbers(dimsEl.type, dimsEl.data, ctx.le));
  const nameEl = await readSubelement(r, ctx.le);
  const name = nameEl.data.toString('latin1');
  const rest = (): number => nbytes - (r.pos - start);
  if (name !== 'X' && name !== 'y') return r.skip(rest());
  const clsName = CLASS_NAMES[cls] ?? `class ${cls}`;
  if (!NUMERIC_CLASSES.has(cls) || complex) throw new MatError(`${name} is ${complex ? 'complex ' : ''}${clsName}, expected a real numeric array`);
  const tag = await readTag(r, ctx.le);
  if (name === 'X') {
    if (cls !== mxUINT8) throw new MatError(`X is class ${clsName}, expected uint8`);
    if (tag.small) throw new MatError(`X holds only ${tag.nbytes} bytes`);
    await readX(r, ctx, dims, tag.type, tag.nbytes);
  } else {
    const data = tag.small ?? (await r.exact(tag.nbytes));
    if (!tag.small) await r.skip(pad8(tag.nbytes));
    ctx.yRaw = { dims, values: decodeNumbers(tag.type, data, ctx.le), cls: clsName };
  }
  await r.skip(Math.max(0, rest())); // an imaginary part or padding we do not use
}

async function readCompressed(file: ByteReader, ctx: Ctx, nbytes: number): Promise<void> {
  const inflate = createInflate();
  const done = pipeline(Readable.from(file.chunks(nbytes)), inflate).then(
    () => null,
    (e: Error) => e,
  );
  const inner = new ByteReader(inflate[Symbol.asyncIterator]());
  try {
    const tag = await readTag(inner, ctx.le);
    if (tag.type === mi.MATRIX) await readMatrix(inner, ctx, tag.nbytes);
    await inner.drain();
  } catch (e) {
    inflate.destroy();
    const cause = await done;
    if (e instanceof TruncatedError && cause) throw cause;
    throw e;
  }
  const err = await done;
  if (err) throw err;
}

async function readAll(path: string): Promise<Ctx> {
  const r = new ByteReader(createReadStream(path, { highWaterMark: 1 << 20 })[Symbol.asyncIterator]());
  const head = await r.upTo(128);
  const text = looksLikeText(head);
  if (text) throw new MatError(`not a .mat file: it is ${text}`);
  const title = head.subarray(0, 116).toString('latin1');
  if (head.length < 128 || !title.startsWith('MATLAB')) throw new MatError('not a MATLAB .mat file (no "MATLAB 5.0 MAT-file" header)');
  if (/^MATLAB 7\.3/.test(title)) throw new MatError('a MATLAB v7.3 (HDF5) file; save it with -v7 or scipy.io.savemat');
  const endian = head.subarray(126, 128).toString('latin1');
  if (endian !== 'IM' && endian !== 'MI') throw new MatError(`bad endian indicator "${endian}" in the .mat header`);
  const ctx: Ctx = { le: endian === 'IM' };
  while (!(await r.atEnd())) {
    const tag = await readTag(r, ctx.le);
    if (tag.small) continue;
    if (tag.type === mi.COMPRESSED) await readCompressed(r, ctx, tag.nbytes);
    else if (tag.type === mi.MATRIX) await readMatrix(r, ctx, tag.nbytes);
    else await r.skip(tag.nbytes + pad8(tag.nbytes));
  }
  return ctx;
}

/** Read an SVHN-layout .mat file into NHWC uint8 images and 0..9 labels, or throw a VdsError naming the file. */
export async function readSvhnMat(file: string, o: { hint?: string } = {}): Promise<MatImages> {
  let ctx: Ctx;
  try {
    ctx = await readAll(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    let msg: string;
    if (e instanceof MatError) msg = err.message;
    else if (e instanceof TruncatedError) msg = `truncated: ${err.message}`;
    else if (err.code === 'ENOENT' || err.code === 'EACCES' || err.code === 'EISDIR') msg = `cannot read: ${err.message}`;
    else if (err.code?.startsWith('Z_') || /zlib|inflat|unexpected end/i.test(err.message)) msg = `corrupt compressed variable (${err.message})`;
    else throw e;
    throw new VdsError(msg, { file, hint: o.hint ?? DEFAULT_HINT });
  }
  const bad = (msg: string): never => {
    throw new VdsError(msg, { file, hint: o.hint ?? DEFAULT_HINT });
  };
  if (!ctx.x) bad('has no variable X (images); expected X uint8 [32, 32, 3, N]');
  if (!ctx.yRaw) bad('has no variable y (labels); expected y [N, 1] with labels 1..10');
  const x = ctx.x!;
  const yRaw = ctx.yRaw!;
  const n = x.dims[3];
  const yd = yRaw.dims;
  if (yd.length !== 2 || Math.min(yd[0], yd[1]) !== 1) bad(`y has dims [${yd.join(', ')}], expected [N, 1]`);
  if (yRaw.values.length !== n) bad(`y has ${yRaw.values.length} labels but X has ${n} images`);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = yRaw.values[i];
    if (!(Number.isInteger(v) && v >= 1 && v <= 10)) bad(`label ${v} at index ${i} is outside 1..10 (10 means digit 0)`);
    y[i] = v % 10;
  }
  return { n, shape: [x.dims[0], x.dims[1], x.dims[2]], x: x.data, y };
}
