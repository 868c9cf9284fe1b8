/**
 * A history file's bytes as text, without changing what they say. UTF-8 only: invalid bytes are
 * refused, never replaced (a replacement character would merge two different keys), naming the
 * line and byte; a UTF-8 byte-order mark is accepted and dropped; a UTF-16 or UTF-32 one is named
 * as such.
 */
import { HistoryParseError } from './parseError.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function historyText(bytes: Uint8Array): string {
  const byteOrderMark = otherByteOrderMark(bytes);
  if (byteOrderMark !== undefined) throw new HistoryParseError(1, `the file starts with a ${byteOrderMark} byte-order mark; histories are read as UTF-8`);
  try {
    // The decoder drops a leading UTF-8 byte-order mark (ignoreBOM: false).
    return utf8.decode(bytes);
  } catch {
    const { line, column, byte } = firstInvalidByte(bytes);
    throw new HistoryParseError(line, `invalid UTF-8 at byte ${column} of the line (0x${byte.toString(16).padStart(2, '0')}); keys and values are compared as text, so the bytes are not guessed at`);
  }
}

function otherByteOrderMark(bytes: Uint8Array): string | undefined {
  const [a, b, c, d] = bytes;
  if (a === 0xff && b === 0xfe && c === 0 && d === 0) return 'UTF-32 (little-endian)';
  if (a === 0 && b === 0 && c === 0xfe && d === 0xff) return 'UTF-32 (big-endian)';
  if (a === 0xff && b === 0xfe) return 'UTF-16 (little-endian)';
  if (a === 0xfe && b === 0xff) return 'UTF-16 (big-endian)';
  return undefined;
}

/** Where decoding fails: the line (1-based), the byte within it (1-based) and its value. */
function firstInvalidByte(bytes: Uint8Array): { line: number; column: number; byte: number } {
  let line = 1;
  let lineStart = 0;
  let at = 0;
  while (at < bytes.length) {
    const byte = bytes[at]!;
    const length = sequenceLength(bytes, at);
    if (length === 0) return { line, column: at - lineStart + 1, byte };
    if (byte === 0x0a) {
      line++;
      lineStart = at + 1;
    }
    at += length;
  }
  return { line, column: at - lineStart + 1, byte: 0 };
}

/** The length of the well-formed UTF-8 sequence at `at` (RFC 3629, no surrogates), or 0. */
function sequenceLength(bytes: Uint8Array, at: number): number {
  const first = bytes[at]!;
  if (first < 0x80) return 1;
  const continuation = (offset: number, low = 0x80, high = 0xbf) => {
    const byte = bytes[at + offset];
    return byte !== undefined && byte >= low && byte <= high;
  };
  if (first >= 0xc2 && first <= 0xdf) return continuation(1) ? 2 : 0;
  if (first >= 0xe0 && first <= 0xef) {
    const low = first === 0xe0 ? 0xa0 : 0x80;
    const high = first === 0xed ? 0x9f : 0xbf;
    return continuation(1, low, high) && continuation(2) ? 3 : 0;
  }
  if (first >= 0xf0 && first <= 0xf4) {
    const low = first === 0xf0 ? 0x90 : 0x80;
    const high = first === 0xf4 ? 0x8f : 0xbf;
    return continuation(1, low, high) && continuation(2) && continuation(3) ? 4 : 0;
  }
  return 0;
}
