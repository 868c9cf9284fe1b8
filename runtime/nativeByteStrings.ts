import { installByteAllocator, installNativeByteStrings } from '../core/base/byteCodec.ts';

/**
 * Buffer's native latin1 methods called on the codecs' Uint8Arrays themselves (Node's buffer
 * methods take any Uint8Array as `this`): a Buffer view made per string first (`Buffer.from(
 * arrayBuffer, offset, length)`) cost more than the copy for check perf's 276-byte keys, ~2-4x
 * the call (task perfrun2: the backend rewrite's and a 50k-key delete's records write a key each).
 * They are Node's own (not in its documentation): without them, the views as before.
 */
const latin1Write = Buffer.prototype.latin1Write as (this: Uint8Array, text: string, offset: number, length: number) => number;
const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/**
 * The codecs' native byte helpers. Byte strings (keys and values) through Buffer's latin1 coding
 * rather than a character loop: a member's WAL snapshot of a 20 MB backend took ~0.5 s of its event loop, twice
 * or three times a minute under etcdctl check perf. And the writers' buffers from
 * Buffer.allocUnsafe instead of zeroed ArrayBuffers (core/base/byteCodec's installByteAllocator).
 * The bytes are the same (a test holds both to it).
 */
export function useNativeByteStrings(): void {
  installNativeByteStrings(
    typeof latin1Write === 'function' && typeof latin1Slice === 'function'
      ? {
          write(text, into, at) {
            latin1Write.call(into, text, at, text.length);
          },
          read(bytes, start, end) {
            return latin1Slice.call(bytes, start, end);
          },
        }
      : {
          write(text, into, at) {
            Buffer.from(into.buffer, into.byteOffset + at, text.length).write(text, 0, text.length, 'latin1');
          },
          read(bytes, start, end) {
            return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
          },
        },
  );
  // Uninitialised memory (pooled below 4 kB) for the writers' buffers, seen as plain Uint8Arrays
  // so that what a codec returns is the same type under either allocator.
  installByteAllocator((size) => {
    const buffer = Buffer.allocUnsafe(size);
    return new Uint8Array(buffer.buffer, buffer.byteOffset, size);
  });
}
