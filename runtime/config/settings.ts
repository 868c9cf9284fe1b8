import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { type FlagSpec, flagTable, flagToEnv } from './flagTable.ts';

/** Bad input: one line for stderr, exit code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type Source = 'default' | 'flag' | 'env' | 'file';

/** Each flag's value as text, with where it came from. */
export interface Settings {
  readonly values: ReadonlyMap<string, string>;
  readonly sources: ReadonlyMap<string, Source>;
  readonly help: boolean;
  readonly version: boolean;
  /** Things worth a log line that are not errors (unrecognized ETCD_ variables, ignored flags). */
  readonly warnings: readonly string[];
}

const byName = new Map(flagTable.map((flag) => [flag.name, flag]));

/** Checks one value against its flag's kind; returns why not, or null. */
function invalid(flag: FlagSpec, value: string): string | null {
  switch (flag.kind) {
    case 'bool':
      return /^(1|0|t|f|T|F|true|false|TRUE|FALSE|True|False)$/.test(value) ? null : 'parse error';
    case 'uint':
      return /^\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? null : 'parse error';
    default:
      return null;
  }
}

function setValue(values: Map<string, string>, flag: FlagSpec, value: string, where: string): void {
  const why = invalid(flag, value);
  if (why !== null) throw new ConfigError(`invalid value "${value}" for ${where}: ${why}`);
  values.set(flag.name, value);
}

/**
 * Reads the command line as Go's flag package does (etcd 3.4 uses it): `-flag` or `--flag`,
 * `=value` or the next argument, booleans without a value; the first argument that is not a flag
 * is an error ("'x' is not a valid flag"). Then ETCD_* variables for flags the command line did
 * not set — unless a config file is given, which alone decides (etcd ignores flags and variables
 * then, saying so).
 */
export function readSettings(argv: readonly string[], env: NodeJS.ProcessEnv): Settings {
  const fromFlags = new Map<string, string>();
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new ConfigError(`'${argv[i + 1]}' is not a valid flag`);
      break;
    }
    if (!arg.startsWith('-') || arg === '-') throw new ConfigError(`'${arg}' is not a valid flag`);
    const body = arg.replace(/^--?/, '');
    const equals = body.indexOf('=');
    const name = equals < 0 ? body : body.slice(0, equals);
    if (name === 'h' || name === 'help') {
      help = true;
      continue;
    }
    if (name === 'version') {
      version = true;
      continue;
    }
    const flag = byName.get(name);
    if (flag === undefined) throw new ConfigError(`flag provided but not defined: -${name}`);
    let value: string;
    if (equals >= 0) value = body.slice(equals + 1);
    else if (flag.kind === 'bool') value = 'true';
    else {
      if (i + 1 >= argv.length) throw new ConfigError(`flag needs an argument: -${name}`);
      value = argv[++i]!;
    }
    setValue(fromFlags, flag, value, `flag -${name}`);
  }
  const warnings: string[] = [];
  const configFile = fromFlags.get('config-file') ?? env[flagToEnv('config-file')] ?? '';
  if (configFile !== '') {
    warnings.push(`loaded server configuration from ${configFile}; other configuration command line flags and environment variables will be ignored if provided`);
    return withDefaults(readConfigFile(configFile), 'file', { help, version, warnings });
  }
  const values = new Map(fromFlags);
  for (const flag of flagTable) {
    const key = flagToEnv(flag.name);
    const value = env[key];
    if (value === undefined || value === '') continue;
    if (fromFlags.has(flag.name)) {
      // etcd 3.4's flags.verifyEnv: a variable that a flag shadows is a fatal error.
      throw new ConfigError(`conflicting environment variable "${key}" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)`);
    }
    setValue(values, flag, value, key);
  }
  for (const key of Object.keys(env).sort()) {
    if (key.startsWith('ETCD_') && !flagTable.some((flag) => flagToEnv(flag.name) === key) && key !== 'ETCD_UNSUPPORTED_ARCH') warnings.push(`unrecognized environment variable ${key}=${env[key]}`);
  }
  const sources = new Map<string, Source>();
  for (const name of values.keys()) sources.set(name, fromFlags.has(name) ? 'flag' : 'env');
  return withDefaults(values, sources, { help, version, warnings });
}

function withDefaults(values: Map<string, string>, sources: Map<string, Source> | Source, rest: Pick<Settings, 'help' | 'version' | 'warnings'>): Settings {
  const sourceMap = sources instanceof Map ? sources : new Map([...values.keys()].map((name) => [name, sources] as const));
  for (const flag of flagTable) {
    if (values.has(flag.name)) continue;
    values.set(flag.name, flag.defaultValue);
    sourceMap.set(flag.name, 'default');
  }
  return { values, sources: sourceMap, ...rest };
}

/** etcd's YAML config file: flag names as keys, URL lists as comma-separated strings, TLS in two sections. */
function readConfigFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`open ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (document === null || document === undefined) document = {};
  if (typeof document !== 'object' || Array.isArray(document)) throw new ConfigError(`${path}: the configuration must be a YAML mapping`);
  const values = new Map<string, string>();
  const top = document as Record<string, unknown>;
  for (const flag of flagTable) {
    if (flag.name === 'config-file') continue;
    const section = flag.yamlPath === undefined ? top : top[flag.yamlPath[0]];
    const key = flag.yamlPath === undefined ? flag.name : flag.yamlPath[1];
    if (section === null || typeof section !== 'object') continue;
    const raw = (section as Record<string, unknown>)[key];
    if (raw === undefined || raw === null) continue;
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') throw new ConfigError(`${path}: ${flag.yamlPath?.join('.') ?? flag.name} must be a ${flag.kind === 'urls' ? 'comma-separated string' : flag.kind}`);
    const text = String(raw);
    if ((flag.kind === 'bool' && typeof raw !== 'boolean') || (flag.kind === 'uint' && typeof raw !== 'number')) {
      throw new ConfigError(`${path}: ${flag.yamlPath?.join('.') ?? flag.name}: cannot unmarshal ${JSON.stringify(raw)} into ${flag.kind === 'bool' ? 'a boolean' : 'a number'}`);
    }
    setValue(values, flag, text, `${flag.yamlPath?.join('.') ?? flag.name} in ${path}`);
  }
  return values;
}

/** `detcd --help`: etcd's usage layout, for the flags detcd knows. */
export function usage(): string {
  const lines = ['Usage:', '', '  detcd [flags]', '    Start a detcd server.', '', '  detcd --version', '    Show the version of detcd.', '', '  detcd -h | --help', '    Show the help information about detcd.', '', 'Flags:'];
  for (const flag of flagTable) {
    const shown = flag.kind === 'bool' ? `--${flag.name}` : `--${flag.name} '${flag.defaultValue}'`;
    lines.push(`  ${shown}`, `    ${flag.help}`);
  }
  lines.push('', 'Every flag may also be set by its environment variable, ETCD_ and the name in upper snake case (--initial-cluster-token: ETCD_INITIAL_CLUSTER_TOKEN).');
  return lines.join('\n');
}
