import type { ConfChange, Entry } from './entry.ts';
import type { Message } from './message.ts';
import type { Ready } from './ready.ts';
import type { ConfState, HardState, Snapshot, SoftState, StateRole } from './state.ts';

/*
 * One-line descriptions for logs and test output, in etcd-io/raft's style
 * (`1->2 MsgApp Term:1 Log:1/10 Commit:10 Entries:[1/11 EntryNormal "data"]`).
 */

/** Bytes as text when they are printable ASCII, else as hex. */
export function describeBytes(data: Uint8Array): string {
  let text = '';
  for (const byte of data) {
    if (byte < 0x20 || byte > 0x7e || byte === 0x22 || byte === 0x5c) return `0x${[...data].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
    text += String.fromCharCode(byte);
  }
  return `"${text}"`;
}

export function describeConfChange(change: ConfChange): string {
  const parts = change.changes.map((single) => {
    switch (single.type) {
      case 'addNode':
        return `v${single.nodeId}`;
      case 'addLearner':
        return `l${single.nodeId}`;
      case 'removeNode':
        return `r${single.nodeId}`;
    }
  });
  if (change.transition !== 'auto') parts.unshift(`transition=${change.transition}`);
  return parts.length === 0 ? 'leave-joint' : parts.join(' ');
}

export function describeEntry(entry: Entry): string {
  if (entry.type === 'normal') return `${entry.term}/${entry.index} EntryNormal ${describeBytes(entry.data)}`;
  return `${entry.term}/${entry.index} EntryConfChangeV2 ${describeConfChange(entry.change)}`;
}

export function describeEntries(entries: readonly Entry[]): string {
  return entries.map(describeEntry).join('\n');
}

export function describeMessage(m: Message): string {
  let text = `${m.from}->${m.to} ${m.type} Term:${m.term}`;
  if (m.type === 'MsgTransferLeader') return `${text} Transferee:${m.index}`;
  text += ` Log:${m.logTerm}/${m.index}`;
  if (m.reject) text += ` Rejected (Hint: ${m.rejectHint})`;
  if (m.commit !== 0) text += ` Commit:${m.commit}`;
  if (m.context !== '') text += ` Context:${m.context}`;
  if (m.entries.length > 0) text += ` Entries:[${m.entries.map(describeEntry).join(', ')}]`;
  if (m.snapshot !== null) text += ` Snapshot: ${describeSnapshot(m.snapshot)}`;
  return text;
}

export function describeHardState(state: HardState): string {
  let text = `Term:${state.term}`;
  if (state.vote !== 0) text += ` Vote:${state.vote}`;
  return `${text} Commit:${state.commit}`;
}

const roleNames: Record<StateRole, string> = {
  follower: 'StateFollower',
  'pre-candidate': 'StatePreCandidate',
  candidate: 'StateCandidate',
  leader: 'StateLeader',
};

export function describeRole(role: StateRole): string {
  return roleNames[role];
}

export function describeSoftState(state: SoftState): string {
  return `Lead:${state.lead} State:${describeRole(state.role)}`;
}

export function describeConfState(cs: ConfState): string {
  let text = `Voters:[${cs.voters.join(' ')}]`;
  if (cs.votersOutgoing.length > 0) text += ` VotersOutgoing:[${cs.votersOutgoing.join(' ')}]`;
  if (cs.learners.length > 0) text += ` Learners:[${cs.learners.join(' ')}]`;
  if (cs.learnersNext.length > 0) text += ` LearnersNext:[${cs.learnersNext.join(' ')}]`;
  if (cs.autoLeave) text += ' AutoLeave:true';
  return text;
}

export function describeSnapshot(snapshot: Snapshot): string {
  const { index, term, confState } = snapshot.metadata;
  return `Index:${index} Term:${term} ConfState:${describeConfState(confState)}`;
}

/** A Ready as several lines, showing only the fields that carry something. */
export function describeReady(ready: Ready): string {
  const lines: string[] = [`Ready MustSync=${ready.mustSync}:`];
  if (ready.softState !== null) lines.push(describeSoftState(ready.softState));
  if (ready.hardState !== null) lines.push(`HardState ${describeHardState(ready.hardState)}`);
  if (ready.readStates.length > 0) {
    lines.push(`ReadStates:${ready.readStates.map((rs) => ` ${rs.index}/${rs.requestContext}`).join(',')}`);
  }
  if (ready.entries.length > 0) lines.push('Entries:', ...ready.entries.map(describeEntry));
  if (ready.snapshot !== null) lines.push(`Snapshot ${describeSnapshot(ready.snapshot)}`);
  if (ready.committedEntries.length > 0) lines.push('CommittedEntries:', ...ready.committedEntries.map(describeEntry));
  if (ready.messages.length > 0) lines.push('Messages:', ...ready.messages.map(describeMessage));
  return lines.join('\n');
}
