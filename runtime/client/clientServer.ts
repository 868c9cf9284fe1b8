import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { listenOn } from '../listen.ts';

export type HttpHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * One client port serving gRPC and HTTP/1 together, as etcd does with cmux: each connection's
 * first bytes decide. HTTP/2's connection preface starts "PRI * HTTP/2.0", which no HTTP/1
 * request line does; such a connection goes to grpc-js (through its connection injector), any
 * other to the HTTP/1 handler (/health, /version, /metrics). With TLS the handshake comes first
 * (ALPN offers h2 and http/1.1) and the decrypted stream is sniffed the same way.
 */
export class ClientServer {
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly http;
  private readonly injector;

  constructor(
    private readonly grpcServer: grpc.Server,
    handler: HttpHandler,
  ) {
    this.http = createHttpServer(handler);
    this.injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  }

  /** Listens on `url` (http or https); resolves once bound. */
  async listen(url: URL, tls: TlsOptions | null): Promise<void> {
    const onConnection = (socket: Socket): void => this.sniff(socket);
    const server = url.protocol === 'https:' ? createTlsServer({ ...(tls ?? {}), ALPNProtocols: ['h2', 'http/1.1'] }, onConnection) : createNetServer(onConnection);
    await listenOn(server, url);
    this.servers.push(server);
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.injector.destroy();
    this.grpcServer.forceShutdown();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
    this.http.close();
  }

  private sniff(socket: Socket): void {
    this.sockets.add(socket);
    // Small replies must leave at once: with Nagle's algorithm on, a reply waits for the client's
    // delayed ACK (40 ms on Linux). grpc-js sets this on sockets it accepts itself; these it does not.
    socket.setNoDelay(true);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      if (head.byteLength < 3) return;
      socket.off('data', onData);
      socket.pause();
      socket.unshift(head);
      // Both get the socket itself with the sniffed bytes put back. Node's HTTP/2 reads what is
      // already buffered first and then consumes the native handle, so nghttp2 reads and writes
      // the socket directly; a wrapping Duplex would put it behind a JSStreamSocket, which cost a
      // third of the leader's CPU under load (a JavaScript hop and a write per frame).
      if (head.subarray(0, 3).toString('latin1') === 'PRI') this.injector.injectConnection(socket);
      else {
        this.http.emit('connection', socket);
        socket.resume();
      }
    };
    socket.on('data', onData);
  }
}
