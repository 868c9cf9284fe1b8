"""Nothing removed from ARCHITECTURE.md is lost: every line removed since a base commit is in
docs/journal/, verbatim and in order (runs of removed lines matched as contiguous segments of the
journals' own text, their headings and source comments aside; blank lines ignored), or is one of
the few stale lines restated in place (RESTATED).

Run from the repository root: python3 docs/journal/check-moved.py [base, default main]
Exit 1 if a removed line is found nowhere."""
import difflib, glob, subprocess, sys

# Kept lines that had gone stale and were restated in place in session 21 (not journal material).
RESTATED = [
    'ServerReply>`; `etcdProtocol(config)` starts it for the simulator (and later the runtime). Calls are',
    '  its request id, and one op) encoded as JSON after a format byte (one byte per character; UTF-8',
    "  when a member name needs it). Decoding is memoized per byte array in the member incarnation's",
    "  `MemberList{linearizable}`): etcd's linearizable read loop — the reads that arrive while a round",
    "  is in flight share the next round's ReadIndex request; once confirmed, they are served when the",
    '  one record codec for every file, each record tagged with its kind. Backend commits are whole',
    "  images, as the simulator writes them; a real disk will want each commit's changes only.",
    'Tests sit beside the code they test as `*.test.ts`. Property suites live in `properties/`.',
    "  last snapshot must find itself in it), and they cost nothing to take: the replicated log's",
    '  arrays are append-only and a snapshot is a view of their first `count` elements.'
]

base = sys.argv[1] if len(sys.argv) > 1 else 'main'
old = subprocess.run(['git', 'show', f'{base}:ARCHITECTURE.md'], capture_output=True, text=True,
                     check=True).stdout.split('\n')
new = open('ARCHITECTURE.md').read().split('\n')
# the journals' own lines (titles, intros, note headings, source comments) are not moved text
own = lambda line: line.startswith('#') or line.startswith('<!--')
journals = {f: [l for l in open(f).read().split('\n') if l.strip() and not own(l)]
            for f in sorted(glob.glob('docs/journal/*.md'))}
runs = []
for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
    if tag in ('delete', 'replace'):
        run = [l for l in old[i1:i2] if l.strip()]
        if run: runs.append((i1 + 1, i2, run))
missing = removed = segments = restated = 0
for a, b, run in runs:
    removed += len(run)
    k = 0
    while k < len(run):
        longest = 0
        for lines in journals.values():
            for p, line in enumerate(lines):
                if line != run[k]: continue
                n = 0
                while k + n < len(run) and p + n < len(lines) and lines[p + n] == run[k + n]: n += 1
                longest = max(longest, n)
        if longest:
            segments += 1; k += longest
        elif run[k] in RESTATED:
            restated += 1; k += 1
        else:
            missing += 1; print(f'MISSING (old lines {a}-{b}): {run[k][:100]}'); k += 1
print(f'ARCHITECTURE.md: {len(old)} lines at {base}, {len(new)} now; {removed} non-blank lines removed, '
      f'found verbatim in docs/journal/ as {segments} contiguous segments, {restated} restated in '
      f'place; {missing} not found')
sys.exit(1 if missing else 0)
