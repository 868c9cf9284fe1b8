/** HTTP/2 frames as the client-port tests write and read them (RFC 7540 4.1). */

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** One frame: its 9-byte header and `payload`. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** The complete frames at the start of `bytes`, and what is left after them (a frame still arriving). */
export function parseFrames(bytes: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = [];
  let offset = 0;
  while (offset + 9 <= bytes.length && offset + 9 + bytes.readUIntBE(offset, 3) <= bytes.length) {
    const length = bytes.readUIntBE(offset, 3);
    frames.push({ type: bytes[offset + 3]!, flags: bytes[offset + 4]!, streamId: bytes.readUInt32BE(offset + 5), payload: bytes.subarray(offset + 9, offset + 9 + length) });
    offset += 9 + length;
  }
  return { frames, rest: bytes.subarray(offset) };
}
