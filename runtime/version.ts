import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The etcd release whose API and behaviour detcd follows, and the cluster version it reports. */
export const etcdVersion = '3.4.23';
export const etcdClusterVersion = '3.4.0';

export const detcdVersion: string = (JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json'), 'utf8')) as { version: string }).version;

/** Node's architecture names as Go spells them (GOARCH). */
const goArch: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };

/** `detcd --version`: etcd's lines (scripts parse "etcd Version:"), then detcd's own. */
export function versionText(): string {
  return [
    `etcd Version: ${etcdVersion}`,
    'Git SHA: detcd',
    `Go Version: none (detcd runs on Node.js ${process.version})`,
    `Go OS/Arch: ${process.platform}/${goArch[process.arch] ?? process.arch}`,
    `detcd Version: ${detcdVersion}`,
  ].join('\n');
}
