/**
 * Types for crc-32's CRC-32C module (SheetJS, Apache-2.0), which ships types only for its CRC-32
 * module. Each function returns the CRC as a signed 32-bit integer; passing a previous result as
 * `seed` continues it over more data.
 */
declare module 'crc-32/crc32c.js' {
  const crc32c: {
    buf(data: Uint8Array | number[], seed?: number): number;
    bstr(data: string, seed?: number): number;
  };
  export default crc32c;
}
