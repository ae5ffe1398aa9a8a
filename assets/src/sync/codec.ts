// The protocol's field encoding (docs/protocol.md, "Encoding"): a writer and a reader of
// unsigned LEB128 integers, byte strings, UTF-8 strings, hashes, lists and options, with
// no knowledge of the messages built from them.

import type { Hash } from "./protocol";

/** Bytes of an Automerge change hash. */
export const HASH_BYTES = 32;

/** Why a message did not decode; `reason` says which field and how. */
export class DecodeError extends Error {
  constructor(readonly reason: string) {
    super(`malformed message: ${reason}`);
    this.name = "DecodeError";
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
const MAX_U64 = (1n << 64n) - 1n;

/** Appends encoded fields to a growing buffer. */
export class Writer {
  private buf: Uint8Array;
  private len = 0;

  constructor(type: number, capacity = 64) {
    this.buf = new Uint8Array(Math.max(capacity, 16));
    this.buf[this.len++] = type;
  }

  private reserve(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + extra));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  uint(value: number | bigint): this {
    let v = BigInt(value);
    if (v < 0n || v > MAX_U64) throw new RangeError(`${value} is not a 64-bit unsigned integer`);
    this.reserve(10);
    if (v <= 0xffffffffn) {
      let n = Number(v);
      while (n >= 0x80) {
        this.buf[this.len++] = (n & 0x7f) | 0x80;
        n = Math.floor(n / 128);
      }
      this.buf[this.len++] = n;
      return this;
    }
    while (v >= 0x80n) {
      this.buf[this.len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.len++] = Number(v);
    return this;
  }

  bool(value: boolean): this {
    this.reserve(1);
    this.buf[this.len++] = value ? 1 : 0;
    return this;
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
    return this;
  }

  bytes(bytes: Uint8Array): this {
    return this.uint(bytes.length).raw(bytes);
  }

  string(text: string): this {
    return this.bytes(encoder.encode(text));
  }

  hash(hash: Hash): this {
    if (hash.length !== HASH_BYTES) throw new RangeError(`a hash has ${HASH_BYTES} bytes, not ${hash.length}`);
    return this.raw(hash);
  }

  list<T>(items: readonly T[], each: (w: this, item: T) => void): this {
    this.uint(items.length);
    for (const item of items) each(this, item);
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Reads fields from a message, refusing anything out of shape with a `DecodeError`. */
export class Reader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private take(len: number, what: string): Uint8Array {
    if (len > this.remaining) throw new DecodeError(`the message ends inside ${what}`);
    const slice = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return slice;
  }

  /** A full 64-bit unsigned LEB128 integer. */
  bigUint(what: string): bigint {
    let value = 0n;
    for (let index = 0; index < 10; index++) {
      const byte = this.take(1, what)[0];
      const bits = BigInt(byte & 0x7f);
      if (index === 9 && bits > 1n) throw new DecodeError(`${what} is too large a number`);
      value |= bits << BigInt(7 * index);
      if ((byte & 0x80) === 0) return value;
    }
    throw new DecodeError(`${what} is too large a number`);
  }

  /** An unsigned integer as a JavaScript number (refused above 2^53 - 1). */
  uint(what: string): number {
    const value = this.bigUint(what);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`${what} is too large a number`);
    return Number(value);
  }

  bool(what: string): boolean {
    const byte = this.take(1, what)[0];
    if (byte > 1) throw new DecodeError(`${what} is not valid`);
    return byte === 1;
  }

  bytes(what: string): Uint8Array {
    const len = this.bigUint(what);
    if (len > BigInt(this.remaining)) throw new DecodeError(`the message ends inside ${what}`);
    return this.take(Number(len), what).slice();
  }

  string(what: string, maxBytes = Infinity): string {
    const bytes = this.bytes(what);
    if (bytes.length > maxBytes) throw new DecodeError(`${what} is too long`);
    try {
      return decoder.decode(bytes);
    } catch {
      throw new DecodeError(`${what} is not valid`);
    }
  }

  hash(what: string): Hash {
    return this.take(HASH_BYTES, what).slice();
  }

  list<T>(what: string, item: (r: this) => T): T[] {
    const count = this.bigUint(what);
    if (count > BigInt(this.remaining)) throw new DecodeError(`the message ends inside ${what}`);
    const items: T[] = [];
    for (let i = 0; i < Number(count); i++) items.push(item(this));
    return items;
  }

  option<T>(what: string, item: (r: this) => T): T | null {
    return this.bool(what) ? item(this) : null;
  }

  end(): void {
    if (this.remaining !== 0) throw new DecodeError("bytes are left over after the last field");
  }
}

/** Lower-case hex of a hash (Automerge's own spelling of change hashes). */
export function hashToHex(hash: Hash): string {
  let out = "";
  for (const byte of hash) out += byte.toString(16).padStart(2, "0");
  return out;
}

export function hexToHash(hex: string): Hash {
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new RangeError(`not a change hash: ${hex}`);
  const out = new Uint8Array(HASH_BYTES);
  for (let i = 0; i < HASH_BYTES; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
