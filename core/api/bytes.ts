/**
 * Keys and values are byte strings: JS strings holding one byte per character (char codes 0–255).
 * JS string comparison (`<`) on them is exactly etcd's byte order (`bytes.Compare`), so the
 * ordered index and every range check compare them directly. The gRPC shell converts
 * Buffer ↔ latin1; a character above 255 never enters the store (see `isBytes`).
 */
export type Bytes = string;

/** The range end `"\0"`: every key greater than or equal to the range's key (etcd's WithFromKey). */
export const fromKey: Bytes = '\0';

/** True when every character of `text` is a single byte. */
export function isBytes(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

/**
 * The range end that covers every key with this prefix (etcd's `clientv3.GetPrefixRangeEnd`): the
 * prefix with its last byte below 0xff incremented and what follows dropped; `"\0"` (every key
 * from the prefix on) when every byte is 0xff or the prefix is empty.
 */
export function prefixEnd(prefix: Bytes): Bytes {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const code = prefix.charCodeAt(i);
    if (code < 0xff) return prefix.slice(0, i) + String.fromCharCode(code + 1);
  }
  return fromKey;
}

