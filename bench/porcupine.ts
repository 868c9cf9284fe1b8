/**
 * Porcupine (github.com/anishathalye/porcupine, MIT), run side by side with detcd's checker in
 * the benchmark. Nothing of it is in this repository: at bench time a small driver (its Go source
 * is the text below) is built outside the repository, in the system's temporary folder, against
 * a copy of Porcupine's source found on this machine:
 * - `DETCD_PORCUPINE` naming a checkout of Porcupine or its git directory, or
 * - a mirror of the repository fetched to `/work/.mirror/anishathalye+porcupine/repo`, or
 * - Go's module cache (`go mod download github.com/anishathalye/porcupine`).
 * Without Go or without a source, the benchmark prints one line saying so and goes on.
 *
 * The driver reads detcd's JSON-lines kv histories (the very files detcd checks) and checks them
 * with the same semantics: get/put/append on string values, a missing key reads "", per-key
 * partitions or one partition; failed operations left out; an unknown outcome returns at
 * infinity with an output that any state accepts (Porcupine's treatment). It prints one JSON line
 * per file with the median, the best and the first of its rounds, timing only
 * `CheckOperationsTimeout`, as detcd's side times only the check, and the time it took to read
 * and parse the file (for the "check itself" comparison: parse + first check in a fresh process).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PorcupineResult {
  readonly file: string;
  readonly result: 'linearizable' | 'not-linearizable' | 'unknown';
  readonly ops: number;
  /** The median and the best of its rounds. */
  readonly ms: number;
  readonly bestMs: number;
  /** The first round (in a fresh process: the check from a cold start), and reading the file. */
  readonly firstMs: number;
  readonly parseMs: number;
  /** The same two as CPU (the process's threads included): on a shared machine wall time also counts other processes' turns. */
  readonly firstCpuMs: number;
  readonly parseCpuMs: number;
}

export interface PorcupineOptions {
  readonly unpartitioned: boolean;
  readonly repeat: number;
  readonly timeoutSeconds: number;
}

export type Porcupine =
  | { readonly skipped: string }
  | {
      readonly check: (files: readonly string[], options: PorcupineOptions) => PorcupineResult[];
      /** The driver's command line, to run it as a user would: a process of its own (`bench/coldRun.ts`). */
      readonly command: (files: readonly string[], options: PorcupineOptions) => string[];
    };

const mirror = '/work/.mirror/anishathalye+porcupine/repo';

/** Builds the driver once per Porcupine source (cached in the temporary folder). */
export function porcupine(): Porcupine {
  if (spawnSync('go', ['version'], { encoding: 'utf8' }).status !== 0) return { skipped: 'Porcupine: skipped, Go is not installed (apt-get install golang-go)' };
  const source = findSource();
  if (source === undefined) {
    return { skipped: `Porcupine: skipped, no source found (set DETCD_PORCUPINE to a checkout of github.com/anishathalye/porcupine, or fetch it to ${mirror})` };
  }
  const directory = join(tmpdir(), `detcd-porcupine-${createHash('sha256').update(source.id + driverSource).digest('hex').slice(0, 12)}`);
  const binary = join(directory, 'driver', 'driver');
  if (!existsSync(binary)) {
    try {
      build(directory, source);
    } catch (error) {
      return { skipped: `Porcupine: skipped, the driver did not build: ${String((error as Error).message).split('\n')[0]}` };
    }
  }
  const command = (files: readonly string[], options: PorcupineOptions) => [binary, `-repeat=${options.repeat}`, `-timeout=${options.timeoutSeconds}`, ...(options.unpartitioned ? ['-unpartitioned'] : []), ...files];
  return {
    command,
    check(files, options) {
      const [, ...args] = command(files, options);
      const output = execFileSync(binary, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
      return output
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as PorcupineResult);
    },
  };
}

interface Source {
  /** What identifies this version of the source, for the build cache. */
  readonly id: string;
  copyTo(directory: string): void;
}

function findSource(): Source | undefined {
  const given = process.env.DETCD_PORCUPINE;
  for (const candidate of [given, mirror].filter((path): path is string => path !== undefined && existsSync(path))) {
    if (existsSync(join(candidate, 'checker.go'))) return { id: candidate, copyTo: (directory) => cpSync(candidate, directory, { recursive: true }) };
    const gitDirectory = existsSync(join(candidate, '.git')) ? join(candidate, '.git') : candidate;
    const head = spawnSync('git', ['--git-dir', gitDirectory, 'rev-parse', 'HEAD'], { encoding: 'utf8' });
    if (head.status !== 0) continue;
    return {
      id: head.stdout.trim(),
      copyTo(directory) {
        mkdirSync(directory, { recursive: true });
        execFileSync('sh', ['-c', `git --git-dir "${gitDirectory}" archive HEAD | tar -x -C "${directory}"`]);
      },
    };
  }
  const cache = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout.trim();
  const modules = join(cache, 'github.com', 'anishathalye');
  const version = existsSync(modules) ? readdirSync(modules).filter((name) => name.startsWith('porcupine@')).sort().at(-1) : undefined;
  if (version === undefined) return undefined;
  const path = join(modules, version);
  return { id: path, copyTo: (directory) => cpSync(path, directory, { recursive: true }) };
}

function build(directory: string, source: Source): void {
  rmSync(directory, { recursive: true, force: true });
  const library = join(directory, 'porcupine');
  source.copyTo(library);
  for (const name of readdirSync(library)) if (name.endsWith('_test.go')) rmSync(join(library, name));
  const driver = join(directory, 'driver');
  mkdirSync(driver, { recursive: true });
  writeFileSync(join(driver, 'main.go'), driverSource);
  writeFileSync(join(driver, 'go.mod'), 'module detcd.local/porcupinedriver\n\ngo 1.16\n\nrequire github.com/anishathalye/porcupine v0.0.0\n\nreplace github.com/anishathalye/porcupine => ../porcupine\n');
  const env = { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local', GOCACHE: join(directory, 'gocache'), GOPATH: join(directory, 'gopath') };
  execFileSync('go', ['build', '-o', 'driver', '.'], { cwd: driver, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** The driver's Go source, written to the temporary folder at build time. */
const driverSource = String.raw`// Checks detcd's JSON-lines kv histories with Porcupine (built by detcd's benchmark).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/anishathalye/porcupine"
)

type kvInput struct {
	Kind  string "json:\"kind\""
	Key   string "json:\"key\""
	Value string "json:\"value\""
}

// An unknown outcome has known == false: any output is acceptable.
type kvOutput struct {
	value string
	known bool
}

type line struct {
	History  *string                 "json:\"history\""
	Process  int                     "json:\"process\""
	Invoke   json.Number             "json:\"invoke\""
	Complete *json.Number            "json:\"complete\""
	Outcome  string                  "json:\"outcome\""
	Input    kvInput                 "json:\"input\""
	Output   *map[string]interface{} "json:\"output\""
}

func readHistory(path string) ([]porcupine.Operation, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	scanner := bufio.NewScanner(file)
	scanner.Buffer(make([]byte, 1<<20), 1<<30)
	var operations []porcupine.Operation
	for scanner.Scan() {
		if len(scanner.Bytes()) == 0 {
			continue
		}
		var record line
		if err := json.Unmarshal(scanner.Bytes(), &record); err != nil {
			return nil, err
		}
		if record.History != nil || record.Outcome == "fail" {
			continue
		}
		call, err := record.Invoke.Int64()
		if err != nil {
			return nil, err
		}
		ret := int64(math.MaxInt64)
		out := kvOutput{}
		if record.Outcome == "ok" {
			if ret, err = record.Complete.Int64(); err != nil {
				return nil, err
			}
			out.known = true
			if value, ok := (*record.Output)["value"].(string); ok {
				out.value = value
			}
		}
		operations = append(operations, porcupine.Operation{ClientId: record.Process, Input: record.Input, Call: call, Output: out, Return: ret})
	}
	return operations, scanner.Err()
}

func hashText(text string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(text))
	return h.Sum64()
}

func step(current string, input kvInput, output kvOutput) (bool, string) {
	switch input.Kind {
	case "get":
		return !output.known || output.value == current, current
	case "put":
		return true, input.Value
	default:
		return true, current + input.Value
	}
}

// One key's value; the history is split by key.
var perKey = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, operation := range history {
			key := operation.Input.(kvInput).Key
			byKey[key] = append(byKey[key], operation)
		}
		keys := make([]string, 0, len(byKey))
		for key := range byKey {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		partitions := make([][]porcupine.Operation, 0, len(keys))
		for _, key := range keys {
			partitions = append(partitions, byKey[key])
		}
		return partitions
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		return step(state.(string), input.(kvInput), output.(kvOutput))
	},
	Hash: func(state interface{}) uint64 { return hashText(state.(string)) },
}

// Every key in one map; the history is checked as one partition.
var whole = porcupine.Model{
	Init: func() interface{} { return map[string]string{} },
	Step: func(state, in, out interface{}) (bool, interface{}) {
		current, input := state.(map[string]string), in.(kvInput)
		ok, value := step(current[input.Key], input, out.(kvOutput))
		if !ok || input.Kind == "get" {
			return ok, state
		}
		next := make(map[string]string, len(current)+1)
		for key, old := range current {
			next[key] = old
		}
		next[input.Key] = value
		return true, next
	},
	Equal: func(a, b interface{}) bool {
		left, right := a.(map[string]string), b.(map[string]string)
		if len(left) != len(right) {
			return false
		}
		for key, value := range left {
			if other, ok := right[key]; !ok || other != value {
				return false
			}
		}
		return true
	},
	Hash: func(state interface{}) uint64 {
		var hash uint64
		for key, value := range state.(map[string]string) {
			hash ^= hashText(key + "\x00" + value)
		}
		return hash
	},
}

func main() {
	unpartitioned := flag.Bool("unpartitioned", false, "check each history as one partition")
	repeat := flag.Int("repeat", 1, "check each history this many times; report the median")
	timeout := flag.Float64("timeout", 60, "seconds before a check gives up (unknown)")
	flag.Parse()
	model := perKey
	if *unpartitioned {
		model = whole
	}
	verdicts := map[porcupine.CheckResult]string{porcupine.Ok: "linearizable", porcupine.Illegal: "not-linearizable", porcupine.Unknown: "unknown"}
	for _, path := range flag.Args() {
		reading := time.Now()
		cpuAtStart := cpuMs()
		operations, err := readHistory(path)
		parseMs := float64(time.Since(reading).Microseconds()) / 1000
		parseCpuMs := cpuMs() - cpuAtStart
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			os.Exit(2)
		}
		var result porcupine.CheckResult
		times := make([]float64, 0, *repeat)
		firstCpuMs := 0.0
		for round := 0; round < *repeat; round++ {
			started := time.Now()
			cpuAtCheck := cpuMs()
			result = porcupine.CheckOperationsTimeout(model, operations, time.Duration(*timeout*float64(time.Second)))
			times = append(times, float64(time.Since(started).Microseconds())/1000)
			if round == 0 {
				firstCpuMs = cpuMs() - cpuAtCheck
			}
			if result == porcupine.Unknown {
				break
			}
		}
		firstMs := times[0]
		sort.Float64s(times)
		fmt.Printf("{\"file\":%q,\"result\":%q,\"ops\":%d,\"ms\":%.3f,\"bestMs\":%.3f,\"firstMs\":%.3f,\"parseMs\":%.3f,\"firstCpuMs\":%.3f,\"parseCpuMs\":%.3f}\n", path, verdicts[result], len(operations), times[len(times)/2], times[0], firstMs, parseMs, firstCpuMs, parseCpuMs)
	}
}

// The CPU this process has used (user + system, all its threads: the garbage collector's too), in ms.
func cpuMs() float64 {
	var usage syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &usage) != nil {
		return 0
	}
	return float64(usage.Utime.Nano()+usage.Stime.Nano()) / 1e6
}
`;
