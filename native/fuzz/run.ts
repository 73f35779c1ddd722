/**
 * `npm run fuzz -- <target> [seconds]`: builds the libFuzzer target (native/fuzz/CMakeLists.txt, clang
 * with AddressSanitizer and UndefinedBehaviorSanitizer; the compiler installed first if missing) and
 * fuzzes it for `seconds` (default 60; 0 replays the seeds and regressions only), then prints what it
 * reached. Exits non-zero on any finding: a crash, a sanitizer report, a leak, a timeout, running out
 * of memory or a wrong result (the targets abort on those). `all` runs every target in turn.
 *
 * `npm run fuzz -- <target> --coverage`: replays the target's corpus, seeds and regressions through a
 * build with source-based coverage instead, and prints llvm-cov's line and branch coverage of
 * native/src (what the corpus reaches, file by file).
 *
 * Kept between runs, under .cache/fuzz/ (gitignored): the generated seeds, each target's corpus, the
 * findings, a log per target and runs.jsonl (one line of figures per run).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJpegSeeds } from './seeds.ts';
import { clangToolchain } from './toolchain.ts';

const FUZZ_DIR = fileURLToPath(new URL('.', import.meta.url));
const REPO = join(FUZZ_DIR, '..', '..');
const BUILD = join(REPO, 'native', 'build', 'fuzz');
const COVERAGE_BUILD = join(REPO, 'native', 'build', 'fuzz-coverage');
const CACHE = join(REPO, '.cache', 'fuzz');
export const REGRESSIONS = join(REPO, 'test', 'native', 'fuzz-regressions');

interface Target {
  /** libFuzzer options beyond the common ones. */
  readonly options: string[];
  /** Generates the seed corpus into a directory. */
  readonly seeds?: (dir: string) => Promise<number>;
}

const TARGETS: Record<string, Target> = {
  jpeg: { options: [`-dict=${join(FUZZ_DIR, 'jpeg.dict')}`, '-max_len=16384'], seeds: writeJpegSeeds },
  'jpeg-structured': { options: ['-max_len=4096', '-len_control=0'] },
  resample: { options: [] },
  chw: { options: [] },
  scoring: { options: [] },
};

const binaryOf = (target: string, build = BUILD) => join(build, `fuzz_${target.replaceAll('-', '_')}`);

function usage(): never {
  console.error(`usage: npm run fuzz -- <${Object.keys(TARGETS).join('|')}|all> [seconds | --coverage]`);
  process.exit(2);
}

function build(targets: string[], build = BUILD): void {
  const { cxx } = clangToolchain();
  const run = (args: string[]) => {
    const result = spawnSync('cmake', args, { stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`cmake ${args.join(' ')} failed`);
  };
  if (!existsSync(join(build, 'CMakeCache.txt'))) {
    run(['-S', FUZZ_DIR, '-B', build, `-DCMAKE_CXX_COMPILER=${cxx}`, `-DCROSSMODAL_FUZZ_COVERAGE=${build === COVERAGE_BUILD ? 'ON' : 'OFF'}`]);
  }
  run(['--build', build, '--parallel', String(availableParallelism()), '--target', ...targets.map((t) => `fuzz_${t.replaceAll('-', '_')}`)]);
}

/** The inputs a target starts from: its corpus, the generated seeds, the regression inputs. */
async function inputDirectories(target: string): Promise<string[]> {
  const corpus = join(CACHE, 'corpus', target);
  mkdirSync(corpus, { recursive: true });
  const seeds = await seedDirectory(target, TARGETS[target]!);
  const regressions = join(REGRESSIONS, target);
  return [corpus, ...(seeds ? [seeds] : []), ...(existsSync(regressions) ? [regressions] : [])];
}

/** The seed directory of a target, (re)generated when its generator changed. */
async function seedDirectory(target: string, spec: Target): Promise<string | null> {
  if (!spec.seeds) return null;
  const dir = join(CACHE, 'seeds', target);
  const stamp = join(CACHE, 'seeds', `${target}.generator`);  // outside the directory libFuzzer reads
  const version = createHash('sha256').update(readFileSync(join(FUZZ_DIR, 'seeds.ts'))).digest('hex');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== version) {
    const count = await spec.seeds(dir);
    writeFileSync(stamp, version);
    console.log(`fuzz: ${count} seed files generated in ${dir}`);
  }
  return dir;
}

interface RunFigures {
  target: string;
  seconds: number;
  cpuSeconds: number;
  executions: number;
  edges: number;
  totalEdges: number;
  corpus: number;
  counters: Record<string, number>;
  finding: string | null;
}

/** Lines worth showing live; the rest goes to the log only. */
const SHOWN = /INITED|DONE|pulse|ERROR|SUMMARY|runtime error|Test unit written|fuzz:|declined:|^stat::|fuzz-stats|out-of-memory|timeout|leak/i;

async function fuzz(target: string, seconds: number): Promise<RunFigures> {
  const spec = TARGETS[target]!;
  const findings = join(CACHE, 'findings', target);
  for (const dir of [findings, join(CACHE, 'logs')]) mkdirSync(dir, { recursive: true });
  const inputs = await inputDirectories(target);
  const before = new Set(readdirSync(findings));
  const args = [
    ...(seconds > 0 ? [`-max_total_time=${seconds}`] : ['-runs=0']),
    '-timeout=10',
    '-rss_limit_mb=2560',
    '-print_final_stats=1',
    `-artifact_prefix=${findings}/`,
    ...spec.options,
    ...inputs,
  ];
  const log = join(CACHE, 'logs', `${target}.log`);
  console.log(`\nfuzz: ${target} for ${seconds} s (log: ${log})`);
  // `times` reports the CPU time of the shell's children: the fuzzer and every thread it started.
  const script = `nice -n 19 "$0" "$@"; status=$?; times >&2; exit $status`;
  const child = spawn('sh', ['-c', script, binaryOf(target), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const logStream = createWriteStream(log);
  const lines: string[] = [];
  const collect = (stream: NodeJS.ReadableStream) => {
    let pending = '';
    stream.on('data', (chunk: Buffer) => {
      logStream.write(chunk);
      const parts = (pending + chunk.toString('utf8')).split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (SHOWN.test(line)) console.log(`  ${line}`);
      }
    });
    stream.on('end', () => pending && lines.push(pending));
  };
  collect(child.stdout);
  collect(child.stderr);
  const status = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  await new Promise<void>((resolve) => logStream.end(resolve));

  const last = (pattern: RegExp) => lines.map((l) => pattern.exec(l)).filter((m) => m !== null).at(-1);
  const number = (m: RegExpExecArray | undefined, group = 1) => (m ? Number(m[group]) : 0);
  const counters: Record<string, number> = {};
  for (const line of lines) {
    const m = /^fuzz-stats (\w+)=(\d+)$/.exec(line);
    if (m) counters[m[1]!] = Number(m[2]);
  }
  const times = lines.filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim())).at(-1)?.trim().split(' ') ?? [];
  const cpuSeconds = times.reduce((sum, t) => {
    const [, minutes, secs] = /^(\d+)m([\d.]+)s$/.exec(t) ?? [];
    return sum + Number(minutes ?? 0) * 60 + Number(secs ?? 0);
  }, 0);
  const newFindings = readdirSync(findings).filter((f) => !before.has(f));
  const figures: RunFigures = {
    target,
    seconds,
    cpuSeconds: Math.round(cpuSeconds * 10) / 10,
    executions: number(last(/^stat::number_of_executed_units:\s+(\d+)/)),
    edges: number(last(/cov: (\d+)/)),
    totalEdges: number(last(/Loaded \d+ modules?\s+\((\d+) inline 8-bit counters\)/)),
    corpus: number(last(/corp: (\d+)\//)),
    counters,
    finding: status !== 0 || newFindings.length > 0 ? (newFindings.map((f) => join(findings, f)).join(' ') || `exit status ${status}`) : null,
  };
  appendFileSync(join(CACHE, 'runs.jsonl'), `${JSON.stringify({ date: new Date().toISOString(), ...figures })}\n`);
  report(figures);
  return figures;
}

function report(f: RunFigures): void {
  const share = (name: string) =>
    f.counters[name] !== undefined && f.counters.inputs ? ` ${name.replaceAll('_', ' ')} ${((100 * f.counters[name]!) / f.counters.inputs).toFixed(1)}%,` : '';
  console.log(
    `fuzz: ${f.target}: ${f.executions} executions, ${f.cpuSeconds} CPU s, coverage ${f.edges} of ${f.totalEdges} edges, ` +
      `corpus ${f.corpus};${share('headers_parsed')}${share('decoded_fully')}${share('valid_by_construction')}`.replace(/[,;]$/, ''),
  );
  if (f.finding) {
    console.error(`fuzz: ${f.target}: FINDING: ${f.finding}`);
    console.error(`  reproduce: ${binaryOf(f.target)} <file> (FUZZ_VERBOSE=1 describes the input); log in ${join(CACHE, 'logs', `${f.target}.log`)}`);
  }
}

/** The LLVM tool matching clang's version (llvm-cov-14 beside clang 14), or its unversioned name. */
function llvmTool(name: string): string {
  const { cxx } = clangToolchain();
  const major = /clang version (\d+)/.exec(spawnSync(cxx, ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1];
  const versioned = `${name}-${major}`;
  return major && spawnSync(versioned, ['--version'], { stdio: 'ignore' }).status === 0 ? versioned : name;
}

async function coverage(target: string): Promise<void> {
  const profiles = join(CACHE, 'coverage', target);
  rmSync(profiles, { recursive: true, force: true });
  mkdirSync(profiles, { recursive: true });
  const binary = binaryOf(target, COVERAGE_BUILD);
  console.log(`fuzz: replaying ${target}'s inputs through ${binary}`);
  const replay = spawnSync('nice', ['-n', '19', binary, '-runs=0', '-timeout=30', ...(await inputDirectories(target))], {
    env: { ...process.env, LLVM_PROFILE_FILE: join(profiles, '%p.profraw') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (replay.status !== 0) throw new Error(`replaying ${target}'s inputs failed (exit ${replay.status})`);
  const merged = join(profiles, 'merged.profdata');
  const raw = readdirSync(profiles).filter((f) => f.endsWith('.profraw')).map((f) => join(profiles, f));
  if (spawnSync(llvmTool('llvm-profdata'), ['merge', '-sparse', ...raw, '-o', merged], { stdio: 'inherit' }).status !== 0) {
    throw new Error('llvm-profdata merge failed');
  }
  const sources = join(REPO, 'native', 'src');
  spawnSync(llvmTool('llvm-cov'), ['report', binary, `-instr-profile=${merged}`, sources], { stdio: 'inherit' });
}

async function main(): Promise<void> {
  const [name, secondsArg] = process.argv.slice(2);
  if (!name || (name !== 'all' && !(name in TARGETS))) usage();
  const targets = name === 'all' ? Object.keys(TARGETS) : [name];
  if (secondsArg === '--coverage') {
    build(targets, COVERAGE_BUILD);
    for (const target of targets) await coverage(target);
    return;
  }
  const seconds = secondsArg === undefined ? 60 : Number(secondsArg);
  if (!Number.isInteger(seconds) || seconds < 0) usage();
  build(targets);
  let failed = 0;
  for (const target of targets) if ((await fuzz(target, seconds)).finding) failed++;
  if (failed) {
    console.error(`fuzz: ${failed} target(s) found something; each finding becomes a fix and a regression input in ${REGRESSIONS}`);
    process.exit(1);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
