import { ConfigError, readSettings, usage } from '../runtime/config/settings.ts';
import { applySliceKeys, backendFileCommitsMax, serverConfig, walWriteOnLoopBytes } from '../runtime/config/serverConfig.ts';
import { startServer, type RunningServer } from '../runtime/server.ts';
import { versionText } from '../runtime/version.ts';

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} detcd: ${line}\n`);
}

/**
 * `detcd`: a member of an etcd-compatible cluster. Flags, ETCD_* variables and the YAML config
 * file as etcd 3.4 reads them; bad input is one line on stderr and exit code 2. SIGTERM and
 * SIGINT stop it gracefully (requests refused, queued writes fsynced, files and sockets closed).
 */
export async function main(argv: readonly string[]): Promise<void> {
  let config;
  try {
    const settings = readSettings(argv, process.env);
    if (settings.help) {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    }
    if (settings.version) {
      process.stdout.write(`${versionText()}\n`);
      process.exit(0);
    }
    for (const warning of settings.warnings) log(warning);
    const rewriteEvery = backendFileCommitsMax(process.env);
    const sliceKeys = applySliceKeys(process.env);
    const onLoopBytes = walWriteOnLoopBytes(process.env);
    config = { ...serverConfig(settings), ...(rewriteEvery === undefined ? {} : { backendFileCommitsMax: rewriteEvery }), ...(sliceKeys === undefined ? {} : { applySliceKeys: sliceKeys }), ...(onLoopBytes === undefined ? {} : { walWriteOnLoopBytes: onLoopBytes }) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const parseError = /^(flag provided but not defined|flag needs an argument|invalid value|'.*' is not a valid flag)/.test(error.message);
    process.stderr.write(parseError ? `${error.message}\n` : `detcd: error verifying flags, ${error.message}. See 'detcd --help'.\n`);
    process.exit(2);
  }
  let server: RunningServer;
  let stop = (_signal: string): void => {};
  try {
    server = await startServer(config, {
      log,
      fatal: (error) => {
        log(`fatal: storage failed: ${error.message}`);
        process.exit(1);
      },
      // etcd exits once it has applied its own removal; so does detcd, gracefully.
      removed: () => setImmediate(() => stop('removal')),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const address = (error as { address?: string; port?: number }).address;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') log(`listen tcp ${address}:${(error as { port?: number }).port}: bind: ${code === 'EADDRINUSE' ? 'address already in use' : (error as Error).message}`);
    else log(`cannot start: ${(error as Error).message}`);
    process.exit(1);
  }
  let stopping = false;
  stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    log(reason === 'removal' ? 'stopping' : `received ${reason}; stopping`);
    server.stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (error: Error) => {
        log(`stop failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('terminated'));
  process.on('SIGINT', () => stop('interrupt'));
}
