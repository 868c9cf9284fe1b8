/**
 * A V8 heap snapshot (`.heapsnapshot`, as `--heapsnapshot-signal` or `v8.writeHeapSnapshot`
 * write it) summed up: self sizes by kind and by what holds them, and the external strings with
 * their holders. Read as bytes and scanned, not `JSON.parse`d whole: a member's snapshot after
 * check perf is 0.3-0.6 GB, over V8's longest string.
 *
 * `node --import=tsx bench/heapSnapshotSummary.ts <file>` prints the summary; `checkPerfHeap`
 * calls `summarizeHeapSnapshot` on the snapshots it takes.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface Snapshot {
  nodeFields: string[];
  nodeTypes: string[];
  edgeFields: string[];
  edgeTypes: string[];
  nodes: Uint32Array;
  edges: Uint32Array;
  /** Each string's text when short (up to `shortString` bytes), else undefined; `stringBytes` its encoded length. */
  strings: (string | undefined)[];
  stringBytes: Uint32Array;
}

const shortString = 160;

function section(bytes: Buffer, name: string): number {
  const at = bytes.indexOf(`"${name}":`);
  if (at < 0) throw new Error(`heap snapshot: no "${name}" section`);
  return bytes.indexOf(0x5b /* [ */, at) + 1;
}

function numbers(bytes: Buffer, from: number): Uint32Array {
  let out = new Uint32Array(1 << 20);
  let count = 0;
  let value = 0;
  let inNumber = false;
  for (let at = from; ; at++) {
    const c = bytes[at]!;
    if (c >= 0x30 && c <= 0x39) {
      value = value * 10 + (c - 0x30);
      inNumber = true;
      continue;
    }
    if (inNumber) {
      if (count === out.length) {
        const grown = new Uint32Array(out.length * 2);
        grown.set(out);
        out = grown;
      }
      out[count++] = value;
      value = 0;
      inNumber = false;
    }
    if (c === 0x5d /* ] */) break;
  }
  return out.subarray(0, count);
}

function strings(bytes: Buffer, from: number): { strings: (string | undefined)[]; stringBytes: Uint32Array } {
  const texts: (string | undefined)[] = [];
  const lengths: number[] = [];
  let at = from;
  for (;;) {
    while (bytes[at] !== 0x22 /* " */ && bytes[at] !== 0x5d) at++;
    if (bytes[at] === 0x5d) break;
    const start = at;
    at++;
    while (bytes[at] !== 0x22) at += bytes[at] === 0x5c /* \ */ ? 2 : 1;
    at++;
    lengths.push(at - start - 2);
    texts.push(at - start <= shortString + 2 ? (JSON.parse(bytes.toString('utf8', start, at)) as string) : undefined);
  }
  return { strings: texts, stringBytes: Uint32Array.from(lengths) };
}

export function readHeapSnapshot(file: string): Snapshot {
  const bytes = readFileSync(file);
  const metaStart = bytes.indexOf('"meta":');
  const metaEnd = bytes.indexOf('"node_count"', metaStart);
  const meta = JSON.parse(bytes.toString('utf8', metaStart + 7, bytes.lastIndexOf(',', metaEnd))) as { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  return {
    nodeFields: meta.node_fields,
    nodeTypes: meta.node_types[0],
    edgeFields: meta.edge_fields,
    edgeTypes: meta.edge_types[0],
    nodes: numbers(bytes, section(bytes, 'nodes')),
    edges: numbers(bytes, section(bytes, 'edges')),
    ...strings(bytes, section(bytes, 'strings')),
  };
}

interface Row {
  count: number;
  bytes: number;
  sample?: string | undefined;
}

function add(rows: Map<string, Row>, key: string, bytes: number, sample?: string): void {
  const row = rows.get(key) ?? { count: 0, bytes: 0, sample };
  row.count++;
  row.bytes += bytes;
  rows.set(key, row);
}

function top(rows: Map<string, Row>, n: number, out: (line: string) => void, indent = '  '): void {
  for (const [key, row] of [...rows].sort((a, b) => b[1].bytes - a[1].bytes || b[1].count - a[1].count).slice(0, n)) {
    out(`${indent}${(row.bytes / 2 ** 20).toFixed(1).padStart(7)} MB ${String(row.count).padStart(8)}  ${key}${row.sample === undefined ? '' : `  e.g. ${JSON.stringify(row.sample.slice(0, 60))}`}`);
  }
}

/** Prints the summary of `file`'s snapshot through `out`. */
export function summarizeHeapSnapshot(file: string, out: (line: string) => void, rowsShown = 30): void {
  const s = readHeapSnapshot(file);
  const nf = s.nodeFields.length;
  const ef = s.edgeFields.length;
  const fType = s.nodeFields.indexOf('type');
  const fName = s.nodeFields.indexOf('name');
  const fSize = s.nodeFields.indexOf('self_size');
  const fEdges = s.nodeFields.indexOf('edge_count');
  const eType = s.edgeFields.indexOf('type');
  const eName = s.edgeFields.indexOf('name_or_index');
  const eTo = s.edgeFields.indexOf('to_node');
  const nodeCount = s.nodes.length / nf;
  const name = (node: number) => s.strings[s.nodes[node * nf + fName]!] ?? `<${s.stringBytes[s.nodes[node * nf + fName]!]} bytes>`;
  const type = (node: number) => s.nodeTypes[s.nodes[node * nf + fType]!]!;
  // First retainer (and the edge's name) of each node, skipping weak edges.
  const holder = new Int32Array(nodeCount).fill(-1);
  const holderEdge = new Array<string>(nodeCount);
  const weak = s.edgeTypes.indexOf('weak');
  // Plain objects told apart by their properties' names (a KeyValue from a Revision).
  const shape = new Array<string>(nodeCount);
  const property = s.edgeTypes.indexOf('property');
  const synthetic = s.nodeTypes.indexOf('synthetic');
  let edge = 0;
  for (let node = 0; node < nodeCount; node++) {
    const count = s.nodes[node * nf + fEdges]!;
    const names: string[] = [];
    for (let i = 0; i < count; i++, edge += ef) {
      const kind = s.edges[edge + eType]!;
      if (kind === property && names.length < 8) names.push(s.strings[s.edges[edge + eName]!] ?? '?');
      if (kind === weak) continue;
      const to = s.edges[edge + eTo]! / nf;
      // The first holder, but a real object rather than a synthetic root list when there is one.
      if (holder[to] !== -1 && !(s.nodes[holder[to]! * nf + fType] === synthetic && s.nodes[node * nf + fType] !== synthetic)) continue;
      holder[to] = node;
      const edgeType = s.edgeTypes[kind]!;
      holderEdge[to] = edgeType === 'element' || edgeType === 'hidden' ? `[${edgeType}]` : (s.strings[s.edges[edge + eName]!] ?? '?');
    }
    if (names.length > 0) shape[node] = `{${names.filter((n) => n !== '__proto__' && n !== 'map').join(',')}}`;
  }
  const holderName = (node: number) => (holder[node] === -1 ? '(none)' : `${type(holder[node]!)}:${name(holder[node]!).slice(0, 50)}${name(holder[node]!) === 'Object' ? (shape[holder[node]!] ?? '') : ''}`);
  const byType = new Map<string, Row>();
  const byName = new Map<string, Row>();
  const byHolder = new Map<string, Row>();
  const external = new Map<string, Row>();
  let total = 0;
  let externalCount = 0;
  let externalChars = 0;
  for (let node = 0; node < nodeCount; node++) {
    const size = s.nodes[node * nf + fSize]!;
    const t = type(node);
    total += size;
    add(byType, t, size);
    if (t === 'native') add(byHolder, `native:${name(node).slice(0, 30)} <- ${holderName(node)} .${holderEdge[node] ?? ''}`, size);
    if (t === 'object' || t === 'closure' || t === 'native' || t === 'code' || t === 'regexp') add(byName, `${t}:${name(node).slice(0, 60)}${t === 'object' && name(node) === 'Object' ? (shape[node] ?? '{}') : ''}`, size);
    else add(byHolder, `${t}${t === 'hidden' || t === 'array' ? `:${name(node).slice(0, 30)}` : ''} <- ${holderName(node)} .${holderEdge[node] ?? ''}`, size);
    if (t === 'string') {
      const chars = s.stringBytes[s.nodes[node * nf + fName]!]!;
      // An internal sequential string's object holds its characters (16-byte header + length, escaped
      // characters count longer in the file); an external one is a header whose characters live off the heap.
      if (chars >= 24 && size <= 40) {
        externalCount++;
        externalChars += chars;
        const text = s.strings[s.nodes[node * nf + fName]!];
        add(external, holderName(node).startsWith('synthetic') ? `only V8's list; begins ${JSON.stringify((text ?? '').slice(0, 16))}` : `${holderName(node)} .${holderEdge[node] ?? ''}`, chars, text);
      }
    }
  }
  out(`heap snapshot ${file}: ${nodeCount} nodes, self sizes ${(total / 2 ** 20).toFixed(1)} MB`);
  out('by type:');
  top(byType, 20, out);
  out('objects by constructor:');
  top(byName, rowsShown, out);
  out('strings, arrays, numbers, native and hidden nodes by first holder (holder type:name .edge):');
  top(byHolder, rowsShown, out);
  out(`external strings (on-heap size <= 40 bytes, 24+ characters): ${externalCount}, ~${(externalChars / 2 ** 20).toFixed(1)} MB of characters off the heap; by first holder (MB = characters):`);
  top(external, 15, out);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  if (process.argv.length !== 3) {
    process.stderr.write('usage: heapSnapshotSummary.ts <file.heapsnapshot>\n');
    process.exit(2);
  }
  summarizeHeapSnapshot(process.argv[2]!, (line) => console.log(line));
}
