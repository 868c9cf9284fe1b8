import test from 'ava';
import type { Message } from '../raft/message.ts';
import { emptyConfState, type ConfState } from '../raft/state.ts';
import { Simulation } from '../../sim/simulation.ts';
import { defaultSimOptions } from '../../sim/options.ts';
import type { LogReply, LogReplica, LogRequest } from './logReplica.ts';
import { defaultLogReplicaConfig, logProtocol } from './logProtocol.ts';
import { inConfiguration, leftConfiguration, readdsRemoved, refusesPeer, withRemoved } from './removedMembers.ts';

const config = (parts: Partial<ConfState>): ConfState => ({ ...emptyConfState, ...parts });

test('a voter removed by a joint change is refused only once the joint configuration is left', (t) => {
  const joint = config({ voters: [2, 3, 4], votersOutgoing: [1, 2, 3] });
  t.deepEqual(leftConfiguration(config({ voters: [1, 2, 3] }), joint), [], 'still in the outgoing half');
  t.false(refusesPeer([], joint, 1));
  const left = config({ voters: [2, 3, 4] });
  t.deepEqual(leftConfiguration(joint, left), [1]);
  t.true(refusesPeer([1], left, 1));
  t.false(refusesPeer([1], left, 2));
  // Listed as removed but still in the configuration (the etcd member's view runs ahead of Raft's): not refused yet.
  t.false(refusesPeer([1], joint, 1));
});

test('learners count as members; the removed set grows ascending, each id once, and is never reused', (t) => {
  t.true(inConfiguration(config({ voters: [1], learnersNext: [4] }), 4));
  t.deepEqual(leftConfiguration(config({ voters: [1, 2], learners: [5] }), config({ voters: [1, 2] })), [5]);
  const removed = withRemoved(withRemoved([], [5, 1]), [1]);
  t.deepEqual(removed, [1, 5]);
  t.is(withRemoved(removed, [5]), removed, 'unchanged: the same value');
  t.is(readdsRemoved(removed, { transition: 'auto', changes: [{ type: 'addLearner', nodeId: 5 }], context: new Uint8Array() }), 5);
  t.is(readdsRemoved(removed, { transition: 'auto', changes: [{ type: 'removeNode', nodeId: 5 }], context: new Uint8Array() }), null);
  t.is(readdsRemoved(removed, { transition: 'auto', changes: [{ type: 'addNode', nodeId: 2 }], context: new Uint8Array() }), null);
});

/**
 * Three voters without pre-vote or check-quorum; node 3 is cut off, removed by the other two, and
 * healed without ever learning of its removal. The admin then asks to add it back.
 */
function removeIsolatedVoter(): { sim: Simulation<Message, LogRequest, LogReply, LogReplica>; readdReplies: LogReply[]; termAfterHealing: number } {
  const replicaConfig = { ...defaultLogReplicaConfig, preVote: false, checkQuorum: false, initialVoters: [1, 2, 3] };
  let removedAtUs: number | null = null;
  const readdReplies: LogReply[] = [];
  let termAfterHealing = 0;
  const sim = new Simulation<Message, LogRequest, LogReply, LogReplica>(
    {
      ...defaultSimOptions,
      seed: 3,
      timeLimitUs: 14_000_000,
      faults: [
        { atUs: 2_000_000, action: { kind: 'partition', shape: { kind: 'isolate', node: 3 } } },
        { atUs: 6_000_000, action: { kind: 'heal' } },
      ],
    },
    {
      protocol: logProtocol(replicaConfig),
      workload: {
        name: 'admin',
        clientCount: 1,
        operationsPerClientMax: 1_000,
        timeoutUs: 500_000,
        thinkUsMin: 50_000,
        thinkUsMax: 50_000,
        next: (_client, random, nowUs) => {
          const to = 1 + random.below(2);
          if (nowUs > 8_000_000 && termAfterHealing === 0) termAfterHealing = sim.node(3)!.hardState.term;
          if (nowUs < 3_000_000) return { to, request: { kind: 'read' } };
          if (removedAtUs === null) return { to, request: { kind: 'conf-change', change: { transition: 'auto', changes: [{ type: 'removeNode', nodeId: 3 }], context: new Uint8Array() } } };
          if (nowUs > 11_000_000 && readdReplies.length < 2) return { to, request: { kind: 'conf-change', change: { transition: 'auto', changes: [{ type: 'addLearner', nodeId: 3 }], context: new Uint8Array() } } };
          return { to, request: { kind: 'read' } };
        },
        outcome: (reply) => (reply.kind === 'error' ? 'fail' : 'ok'),
        onComplete: (_client, request, reply, nowUs) => {
          if (reply === null || request.kind !== 'conf-change') return;
          if (request.change.changes[0]!.type === 'removeNode' && reply.kind === 'conf-changed') removedAtUs = nowUs;
          if (request.change.changes[0]!.type === 'addLearner') readdReplies.push(reply);
        },
      },
    },
  );
  sim.run();
  return { sim, readdReplies, termAfterHealing };
}

test('a voter removed while cut off, healed without learning it, campaigns, is refused and told, and stops: the leader keeps its term', (t) => {
  const { sim, readdReplies, termAfterHealing } = removeIsolatedVoter();
  const removedNode = sim.node(3)!;
  const leaders = [1, 2].map((id) => sim.node(id)!).filter((node) => node.softState.role === 'leader');
  t.is(leaders.length, 1, 'one of the two voters left leads');
  const leader = leaders[0]!;
  t.deepEqual(leader.confState.voters, [1, 2]);
  t.deepEqual(leader.removed, [3]);
  t.true(inConfiguration(removedNode.confState, 3), 'node 3 never learned of its removal');
  t.true(removedNode.stopped, 'a peer that refused it told it so, and it stopped serving');
  t.true(removedNode.hardState.term > leader.hardState.term, `node 3 campaigned (term ${removedNode.hardState.term}) and the leader never heard of it (term ${leader.hardState.term})`);
  t.is(removedNode.hardState.term, termAfterHealing, 'told at its first refused vote request after healing, node 3 campaigned no more');
  t.true(readdReplies.length > 0 && readdReplies.every((reply) => reply.kind === 'error' && reply.reason === 'conf-change-refused'), 'a removed id is never added again');
});
