/**
 * The two layers of Oracle Net a thin client speaks, as node-oracledb's thin driver frames them
 * (lib/thin/sqlnet/packet.js, lib/thin/protocol/packet.js; the layout is also in
 * shared/reference/emulators.md §4):
 * - TNS packets: an 8-byte header (length, checksum, type, flags, header checksum), the length a
 *   u16 until the ACCEPT of a version >= 315, a u32 after; DATA packets carry 2 flag bytes;
 * - TTC messages inside DATA packets: variable-length integers (a length byte, then that many
 *   big-endian bytes; 0x80 in the length byte marks a negative), and byte strings (a length byte,
 *   or 0xFE then chunks of UB4 length ended by a zero chunk; 0 or 0xFF is null).
 */

export const PACKET = { CONNECT: 1, ACCEPT: 2, REFUSE: 4, DATA: 6, RESEND: 11, MARKER: 12, CONTROL: 14 } as const;
/** DATA flags: the client's last packet of a request, and end of file (the client is leaving). */
export const DATA_FLAG = { END_OF_REQUEST: 0x800, EOF: 0x40 } as const;

const LONG_LENGTH = 0xfe;
const NULL_LENGTH = 0xff;
const MAX_SHORT_LENGTH = 252;
const CHUNK = 32767;

/** Reads a TTC message from the bytes of one request (all its DATA packets' payloads joined). */
export class TtcReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new Error(`TTC: read past the end of the request at ${this.pos}`);
    return this.buf[this.pos++] as number;
  }

  bytes(count: number): Buffer {
    if (this.pos + count > this.buf.length) throw new Error(`TTC: ${count} bytes wanted at ${this.pos}, ${this.remaining} left`);
    const out = this.buf.subarray(this.pos, this.pos + count);
    this.pos += count;
    return out;
  }

  private integer(maxSize: number, signed: boolean): number {
    let size = this.u8();
    if (size === 0) return 0;
    let negative = false;
    if (size & 0x80) {
      if (!signed) throw new Error(`TTC: negative value where an unsigned one was expected at ${this.pos - 1}`);
      negative = true;
      size &= 0x7f;
    }
    if (size > maxSize) throw new Error(`TTC: integer of ${size} bytes where at most ${maxSize} fit, at ${this.pos - 1}`);
    const value = this.bytes(size).readUIntBE(0, size);
    return negative ? -value : value;
  }

  ub2(): number {
    return this.integer(2, false);
  }
  ub4(): number {
    return this.integer(4, false);
  }
  ub8(): number {
    const size = this.u8();
    if (size === 0) return 0;
    let value = 0;
    for (const byte of this.bytes(size)) value = value * 256 + byte;
    return value;
  }
  sb4(): number {
    return this.integer(4, true);
  }

  /** A byte string: null for 0 or 0xFF. */
  bytesWithLength(): Buffer | null {
    const length = this.u8();
    if (length === 0 || length === NULL_LENGTH) return null;
    if (length !== LONG_LENGTH) return this.bytes(length);
    const chunks: Buffer[] = [];
    for (let size = this.ub4(); size !== 0; size = this.ub4()) chunks.push(this.bytes(size));
    return Buffer.concat(chunks);
  }

  /** A key/value pair as the client writes them (writeKeyValue in protocol/packet.js). */
  keyValue(): { key: string; value: string; flags: number } {
    const keyLength = this.ub4();
    const key = keyLength > 0 ? (this.bytesWithLength() ?? Buffer.alloc(0)).toString('utf8') : '';
    const valueLength = this.ub4();
    const value = valueLength > 0 ? (this.bytesWithLength() ?? Buffer.alloc(0)).toString('utf8') : '';
    return { key, value, flags: this.ub4() };
  }
}

/** Builds the server's TTC reply. */
export class TtcWriter {
  private chunks: Buffer[] = [];
  private length = 0;

  private push(buffer: Buffer): this {
    this.chunks.push(buffer);
    this.length += buffer.length;
    return this;
  }

  u8(value: number): this {
    return this.push(Buffer.from([value & 0xff]));
  }
  u16be(value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16BE(value);
    return this.push(b);
  }
  u16le(value: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(value);
    return this.push(b);
  }
  u32be(value: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value);
    return this.push(b);
  }
  raw(buffer: Buffer): this {
    return this.push(buffer);
  }

  /** UB2/UB4/UB8 and SB2/SB4: the smallest length that holds the value (as the client writes them). */
  int(value: number): this {
    if (value === 0) return this.u8(0);
    const negative = value < 0;
    let magnitude = Math.abs(value);
    const bytes: number[] = [];
    while (magnitude > 0) {
      bytes.unshift(magnitude % 256);
      magnitude = Math.floor(magnitude / 256);
    }
    if (bytes.length === 3) bytes.unshift(0);
    return this.u8(bytes.length | (negative ? 0x80 : 0)).push(Buffer.from(bytes));
  }

  bytesWithLength(value: Buffer | null): this {
    if (value === null || value.length === 0) return this.u8(0);
    if (value.length <= MAX_SHORT_LENGTH) return this.u8(value.length).push(value);
    this.u8(LONG_LENGTH);
    for (let start = 0; start < value.length; start += CHUNK) {
      const chunk = value.subarray(start, start + CHUNK);
      this.int(chunk.length).push(chunk);
    }
    return this.int(0);
  }

  str(value: string | null): this {
    return this.bytesWithLength(value === null ? null : Buffer.from(value, 'utf8'));
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }
}

/** A TNS packet header and body as they go on the wire. */
export function tnsPacket(type: number, body: Buffer, largeLength: boolean, flags = 0): Buffer {
  const packet = Buffer.alloc(8 + body.length);
  if (largeLength) packet.writeUInt32BE(packet.length, 0);
  else packet.writeUInt16BE(packet.length, 0);
  packet[4] = type;
  packet[5] = flags;
  body.copy(packet, 8);
  return packet;
}

/** A reply cut into DATA packets of at most `sdu` bytes each. */
export function dataPackets(payload: Buffer, sdu: number, dataFlags = 0): Buffer[] {
  const room = sdu - 10;
  const packets: Buffer[] = [];
  for (let start = 0; start < payload.length || start === 0; start += room) {
    const part = payload.subarray(start, start + room);
    const body = Buffer.alloc(2 + part.length);
    body.writeUInt16BE(dataFlags, 0);
    part.copy(body, 2);
    packets.push(tnsPacket(PACKET.DATA, body, true));
    if (payload.length === 0) break;
  }
  return packets;
}

/**
 * Splits a byte stream into TNS packets. Before ACCEPT the length is a u16; after an ACCEPT of
 * version >= 315 it is a u32 (lib/thin/sqlnet/packet.js AcceptPacket sets largeSDU).
 */
export class PacketSplitter {
  private pending: Buffer = Buffer.alloc(0);
  largeLength = false;

  push(data: Buffer): { type: number; flags: number; body: Buffer }[] {
    this.pending = this.pending.length ? Buffer.concat([this.pending, data]) : data;
    const packets: { type: number; flags: number; body: Buffer }[] = [];
    for (;;) {
      if (this.pending.length < 8) break;
      const length = this.largeLength ? this.pending.readUInt32BE(0) : this.pending.readUInt16BE(0);
      if (length < 8) throw new Error(`TNS: packet length ${length} is shorter than its header`);
      if (this.pending.length < length) break;
      packets.push({ type: this.pending[4] as number, flags: this.pending[5] as number, body: this.pending.subarray(8, length) });
      this.pending = this.pending.subarray(length);
    }
    return packets;
  }
}
