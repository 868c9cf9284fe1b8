/**
 * Types for hpack.js (the spdy package's HPACK, MIT), which ships none: the decompressor and
 * compressor are object-mode streams whose write/execute run synchronously. Header names and values
 * are strings of one char per byte (latin1).
 */
declare module 'hpack.js' {
  export interface HpackHeader {
    name: string;
    value: string;
    neverIndex: boolean;
  }
  export interface HpackTableOptions {
    table: { maxSize: number };
  }
  export interface Decompressor {
    write(block: Buffer): boolean;
    /** Decodes what was written; without a callback an error is thrown out of it (as an 'error' event with no listener). */
    execute(): void;
    read(): HpackHeader | null;
  }
  export interface Compressor {
    write(headers: { name: string; value: string; huffman?: boolean; neverIndex?: boolean; incremental?: boolean }[]): boolean;
    read(): Buffer | null;
    updateTableSize(size: number): void;
  }
  const hpack: {
    decompressor: { create(options: HpackTableOptions): Decompressor };
    compressor: { create(options: HpackTableOptions): Compressor };
  };
  export default hpack;
}
