/**
 * Makes etcdctl's output comparable across servers: what depends on ids, revisions, terms, times,
 * sizes or hashes becomes a placeholder, so the rest — words, layout, field names, exit codes —
 * must match exactly. Applied alike to the reference (real etcd's output) and to detcd's.
 */
export interface NormalizeOptions {
  /** Sort the lines: their order follows member ids, or which endpoint answered first. */
  readonly sortLines?: boolean;
  /** Every integer becomes <N> (status rows, hashes: each number there is a term, an index or a hash). */
  readonly numbers?: boolean;
  /** Which member leads is an election's outcome: the IS LEADER column becomes <LEADER>. */
  readonly leader?: boolean;
  /** A JSON line's arrays (members, endpoints) sorted: their order follows ids or who answered first. */
  readonly sortJsonArrays?: boolean;
}

/** Sorts every array in a JSON value by its elements' normalized serialization (ids and times differ between servers). */
function sortArrays(value: unknown): unknown {
  const key = (item: unknown) => applyRules(JSON.stringify(item));
  if (Array.isArray(value)) return value.map(sortArrays).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, sortArrays(inner)]));
  return value;
}

const rules: readonly (readonly [RegExp, string])[] = [
  // HTTP: line ends, and the headers the HTTP library adds (etcd's are Go's, detcd's Node's).
  [/\r/g, ''],
  [/^(Date|Connection|Keep-Alive|Transfer-Encoding): .*\n/gim, ''],
  // etcdctl's zap log lines: timestamps, the client's random id.
  [/"ts":"[^"]*"/g, '"ts":"<TS>"'],
  [/"ts":[0-9.e+]+/g, '"ts":<TS>'],
  [/client-[0-9a-f-]{36}/g, 'client-<UUID>'],
  // Durations ("took = 4.86ms", "took":"8.89ms", "took":0.0085, table cells).
  [/"took":[0-9.e-]+/g, '"took":<DURATION>'],
  [/\b\d+(\.\d+)?(ns|µs|ms|s)\b/g, '<DURATION>'],
  [/\b(\d+m)?\d+(\.\d+)?s\b/g, '<DURATION>'],
  // Sizes.
  [/\b\d+(\.\d+)? (kB|MB|GB|B)\b/g, '<SIZE>'],
  [/"(dbSize|dbSizeInUse|totalSize|size)":\d+/g, '"$1":<SIZE>'],
  // Member, cluster and lease ids: etcd's are 16 hex digits, detcd's 53-bit ones fewer.
  [/"(cluster_id|member_id|leader|ID|id|memberID|lease)":\d+/g, '"$1":<ID>'],
  // A lease's remaining seconds (as the text form's remaining(56s) is a duration); -1 (expired) stays.
  [/"ttl":\d+/g, '"ttl":<TTL>'],
  [/"(ClusterID|MemberID)" : \d+/g, '"$1" : <ID>'],
  [/\b[0-9a-f]{11,16}\b/g, '<ID>'],
  // etcd prints ids in hex without padding: a detcd id below 2^40 (about 1 in 8,000, its peer port
  // being random in tests) has 10 digits or fewer. Such a shorter id is taken when it mixes letters
  // and digits (revisions and counts are decimal; etcdctl's words have no digits).
  [/\b(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{6,10}\b/g, '<ID>'],
  // Revisions, terms and indexes.
  [/"(revision|create_revision|mod_revision|raft_term|raftIndex|raftTerm|raftAppliedIndex|hash|compact_revision|hash_revision)":\d+/g, '"$1":<N>'],
  [/"(Revision|CreateRevision|ModRevision|RaftTerm)" : \d+/g, '"$1" : <N>'],
  [/compacted revision \d+/g, 'compacted revision <N>'],
  // Table layout: column widths follow the cells' contents.
  [/-{2,}/g, '-'],
  [/ {2,}/g, ' '],
];

function applyRules(text: string): string {
  let out = text;
  for (const [pattern, replacement] of rules) out = out.replace(pattern, replacement);
  return out;
}

export function normalize(text: string, options: NormalizeOptions = {}): string {
  let out = text;
  if (options.sortJsonArrays === true) out = out.replace(/^[[{].*$/gm, (line) => JSON.stringify(sortArrays(JSON.parse(line))));
  if (options.leader === true) out = out.replace(/\b(true|false)(, | +\| +)false\b/g, '<LEADER>$2false');
  out = applyRules(out);
  // Whole integers only: not the parts of an address (127.0.0.1:2379) or a version (3.4.23).
  if (options.numbers === true) out = out.replace(/(?<![\d.:])\b\d+\b(?![.:]\d)/g, '<N>');
  if (options.sortLines === true) out = out.split('\n').filter((line) => line !== '').sort().join('\n') + (out.endsWith('\n') ? '\n' : '');
  return out;
}
