import test from 'ava';
import { ServerMetrics } from './metrics.ts';

test('peer bytes and RPC counts summed between scrapes reach the counters at each scrape, never lost or counted twice', async (t) => {
  const metrics = new ServerMetrics('1');
  metrics.peerBytesSent('2', 100);
  metrics.peerBytesSent('2', 50);
  metrics.peerBytesSent('3', 7);
  metrics.started('unary', 'etcdserverpb.KV', 'Put');
  metrics.handled('unary', 'etcdserverpb.KV', 'Put', 0);
  metrics.handled('unary', 'etcdserverpb.KV', 'Put', 14);
  const first = await metrics.registry.metrics();
  t.regex(first, /^etcd_network_peer_sent_bytes_total\{To="2"\} 150$/m);
  t.regex(first, /^etcd_network_peer_sent_bytes_total\{To="3"\} 7$/m);
  t.regex(first, /^grpc_server_started_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Put"\} 1$/m);
  t.regex(first, /^grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Put",grpc_code="Unavailable"\} 1$/m);
  metrics.peerBytesSent('2', 1);
  metrics.peerBytesReceived('3', 9);
  const second = await metrics.registry.metrics();
  t.regex(second, /^etcd_network_peer_sent_bytes_total\{To="2"\} 151$/m);
  t.regex(second, /^etcd_network_peer_sent_bytes_total\{To="3"\} 7$/m);
  t.regex(second, /^etcd_network_peer_received_bytes_total\{From="3"\} 9$/m);
  t.regex(second, /^grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Put",grpc_code="OK"\} 1$/m);
  // A method's bound counters (made once per method) count into the same series as the calls by name.
  const put = metrics.method('unary', 'etcdserverpb.KV', 'Put');
  put.started();
  put.handled(0);
  put.handled(0);
  put.handled(14);
  const range = metrics.method('unary', 'etcdserverpb.KV', 'Range');
  range.started();
  range.handled(0);
  const third = await metrics.registry.metrics();
  t.regex(third, /^grpc_server_started_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Put"\} 2$/m);
  t.regex(third, /^grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Put",grpc_code="OK"\} 3$/m);
  t.regex(third, /^grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Put",grpc_code="Unavailable"\} 2$/m);
  t.regex(third, /^grpc_server_started_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Range"\} 1$/m);
  t.regex(third, /^grpc_server_handled_total\{grpc_type="unary",grpc_service="etcdserverpb\.KV",grpc_method="Range",grpc_code="OK"\} 1$/m);
});
