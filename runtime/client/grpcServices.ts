import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { trace } from '../latencyTrace.ts';

const protoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', 'proto');

/**
 * etcd's v3 API as loaded from runtime/proto: field names in camelCase as protobufjs renders them
 * (core/api's types mirror these names), 64-bit integers as JS numbers (ids ≥ 2^53 are refused
 * at the API edge: a documented deviation), enums as their names, bytes as Buffers.
 */
export function loadEtcdApi(): PackageDefinition {
  return loadSync(['etcdserverpb/rpc.proto', 'grpc/health/v1/health.proto'], {
    includeDirs: [protoRoot],
    keepCase: false,
    longs: Number,
    enums: String,
    bytes: Buffer,
    defaults: true,
    oneofs: true,
  });
}

/** The services etcd registers on its client port (etcdserver/api/v3rpc/grpc.go), by full name. */
export const etcdServices = ['etcdserverpb.KV', 'etcdserverpb.Watch', 'etcdserverpb.Lease', 'etcdserverpb.Cluster', 'etcdserverpb.Maintenance', 'etcdserverpb.Auth'] as const;

export type Handlers = Partial<Record<string, grpc.UntypedHandleCall>>;

function unimplemented(method: string): grpc.UntypedHandleCall {
  const error = { code: grpc.status.UNIMPLEMENTED, details: `detcd: ${method} is not implemented yet` };
  return ((call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>, callback?: grpc.sendUnaryData<unknown>) => {
    if (typeof callback === 'function') callback(error);
    else if ('emit' in call) {
      (call as grpc.ServerWritableStream<unknown, unknown>).emit('error', error);
    }
  }) as grpc.UntypedHandleCall;
}

/**
 * A gRPC server with every etcd service registered: the methods in `handlers` (keyed
 * `Service.Method`, e.g. `Maintenance.Status`) answer, every other answers UNIMPLEMENTED — the
 * calls the node does not serve (yet). grpc.health.v1.Health answers SERVING, as etcd 3.4 always does.
 */
/** go-grpc-prometheus's type label of a method. */
export type GrpcType = 'unary' | 'server_stream' | 'client_stream' | 'bidi_stream';

/** Told of every call as it starts and as it ends with a status code (grpc_server_started_total, grpc_server_handled_total). */
export interface CallObserver {
  started(type: GrpcType, service: string, method: string): void;
  handled(type: GrpcType, service: string, method: string, code: grpc.status): void;
  /**
   * The same for one method, bound once when the server is made: its series keys are built then,
   * not on every call (two strings, their hashing and a closure per call before).
   */
  method?(type: GrpcType, service: string, method: string): MethodObserver;
}

/** A CallObserver's counters for one method. */
export interface MethodObserver {
  started(): void;
  handled(code: grpc.status): void;
}

/** `observer`'s counters for one method: its own bound ones, or calls through with the names. */
function methodObserver(observer: CallObserver, type: GrpcType, service: string, method: string): MethodObserver {
  return (
    observer.method?.(type, service, method) ?? {
      started: () => observer.started(type, service, method),
      handled: (code) => observer.handled(type, service, method, code),
    }
  );
}

function grpcType(spec: { requestStream: boolean; responseStream: boolean }): GrpcType {
  if (spec.requestStream) return spec.responseStream ? 'bidi_stream' : 'client_stream';
  return spec.responseStream ? 'server_stream' : 'unary';
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> & grpc.ServerDuplexStream<unknown, unknown>;

/**
 * The handler, telling `observer` when a call starts and with which code it ends (once). A unary
 * call gets one closure, its answer, and no named one: tsx compiles with esbuild's keepNames, which
 * wraps every closure bound to a name in a `__name` call (a defineProperty) each time it is made,
 * ~0.6 % of a leader's busy time under 16 puts in flight when this made two per call.
 */
function observed(handler: grpc.UntypedHandleCall, observer: CallObserver, type: GrpcType, service: string, method: string): grpc.UntypedHandleCall {
  const counters = methodObserver(observer, type, service, method);
  return ((call: AnyCall, callback?: grpc.sendUnaryData<unknown>) => {
    counters.started();
    if (typeof callback === 'function') {
      let answered = false;
      (handler as (call: AnyCall, callback: grpc.sendUnaryData<unknown>) => void)(call, (error, value, trailer, flags) => {
        if (!answered) {
          answered = true;
          counters.handled(error === null || error === undefined ? grpc.status.OK : (error.code ?? grpc.status.UNKNOWN));
        }
        callback(error, value, trailer, flags);
      });
      return;
    }
    observeStream(call, counters);
    (handler as (call: AnyCall) => void)(call);
  }) as grpc.UntypedHandleCall;
}

/** A stream ends with end() (OK), an emitted error (its code) or the client's cancellation; the first counts. */
function observeStream(call: AnyCall, counters: MethodObserver): void {
  let done = false;
  const handled = (code: grpc.status): void => {
    if (done) return;
    done = true;
    counters.handled(code);
  };
  call.on('error', (error: grpc.ServiceError) => handled(error.code ?? grpc.status.UNKNOWN));
  call.on('cancelled', () => handled(grpc.status.CANCELLED));
  call.on('finish', () => handled(grpc.status.OK));
}

/** Marks a call's steps inside grpc-js on the latency trace (DETCD_LATENCY_TRACE); installed only then. */
const tracingInterceptor: grpc.ServerInterceptor = (method, call) => {
  const name = method.path.split('/').pop()!;
  const listener = new grpc.ServerListenerBuilder()
    .withOnReceiveMetadata((metadata, next) => {
      trace.mark(`grpc.headers ${name}`);
      next(metadata);
    })
    .withOnReceiveMessage((message, next) => {
      trace.mark(`grpc.message ${name}`);
      next(message);
    })
    .build();
  const responder = new grpc.ResponderBuilder()
    .withStart((next) => next(listener))
    .withSendMessage((message, next) => {
      trace.mark(`grpc.sendMessage ${name}`);
      next(message);
    })
    .withSendStatus((status, next) => {
      trace.mark(`grpc.sendStatus ${name}`);
      next(status);
    })
    .build();
  return new grpc.ServerInterceptingCall(call, responder);
};

export function etcdGrpcServer(handlers: Handlers, options: grpc.ServerOptions = {}, observer?: CallObserver): grpc.Server {
  const definition = loadEtcdApi();
  const server = new grpc.Server(trace.enabled ? { ...options, interceptors: [tracingInterceptor] } : options);
  for (const serviceName of etcdServices) {
    const service = definition[serviceName] as grpc.ServiceDefinition;
    const implementation: grpc.UntypedServiceImplementation = {};
    const shortName = serviceName.split('.')[1]!;
    for (const [method, spec] of Object.entries(service)) {
      const key = `${shortName}.${method}`;
      const handler = handlers[key] ?? unimplemented(key);
      // etcd's labels: the full service name and the method as the .proto spells it.
      const protoMethod = spec.path.split('/').pop()!;
      implementation[spec.originalName ?? method] = observer === undefined ? handler : observed(handler, observer, grpcType(spec), serviceName, protoMethod);
    }
    server.addService(service, implementation);
  }
  const health = definition['grpc.health.v1.Health'] as grpc.ServiceDefinition;
  server.addService(health, {
    check: ((_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, { status: 'SERVING' })) as grpc.UntypedHandleCall,
    watch: ((call: grpc.ServerWritableStream<unknown, unknown>) => call.write({ status: 'SERVING' })) as grpc.UntypedHandleCall,
  });
  return server;
}
