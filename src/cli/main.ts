#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { UsageError } from '../core/errors.js';
import { exitCodeFor, OUTCOMES } from '../core/outcome.js';
import { reportError } from './exit.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const EXIT_HELP = ['', 'Exit codes:', ...OUTCOMES.map((o) => `  ${String(o.exitCode).padEnd(5)}${o.meaning}`)].join('\n');

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

function clusterOptions(cmd: Command): Command {
  return allowOptions(
    cmd
      .option('--context <name>', 'kubeconfig context to act on (default: the embedded cluster)')
      .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)'),
  )
    .option('--node-access <provider>', 'how node-level faults reach nodes: auto (kind for kind-<name> contexts, sim for the embedded cluster), kind, pod (helper pods with host access, any cluster), sim, none', 'auto')
    .option('--node-access-image <image>', 'image of the pod node access helper pods (needs iptables, tc, nsenter, bash); pin it by digest: name@sha256:<64 hex digits>')
    .option('--plugin <module>', 'load faults/probes from a module exporting register(registries) (repeatable)', collect);
}

/** How a real context is allowed (docs/architecture.md, principle 7); every command that may act on one takes these. */
function allowOptions(cmd: Command): Command {
  return cmd
    .option('--allow-context <name>', 'allow acting on this context (repeatable); or list it in .gameday-allow', collect)
    .option('--allowlist <file>', 'file of allowed context names or globs (default: .gameday-allow, $GAMEDAY_ALLOWLIST)');
}

/** The OpenTelemetry export of `run` and `report` (src/cli/otlp-options.ts has the precedence). */
function otlpOptions(cmd: Command): Command {
  return cmd
    .option('--otlp-endpoint <url>', 'also export each run as OpenTelemetry spans, OTLP/HTTP JSON to <url>/v1/traces (default: $GAMEDAY_OTLP_ENDPOINT, then $OTEL_EXPORTER_OTLP_ENDPOINT)')
    .option('--otlp-header <name=value>', 'a header for the OTLP export, e.g. authorization=Bearer… (repeatable; default: $OTEL_EXPORTER_OTLP_HEADERS)', (value: string, previous: string[] = []) => [...previous, value]);
}

// Each command's module is imported when that command runs: --help and `validate` must not pay
// for loading the Kubernetes client, the reporters or Chromium's driver.
export function buildProgram(): Command {
  const program = new Command('gameday')
    .description('Resilience game days for Kubernetes: inject faults, probe, check SLOs, report.')
    .version(pkg.version)
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText('after', EXIT_HELP)
    .exitOverride();

  clusterOptions(
    otlpOptions(
      program
        .command('run')
        .description('run experiments (files or directories) and write reports')
        .argument('<paths...>', 'experiment files or directories of them')
        .option('--out <dir>', 'where run directories are written', 'reports')
        .option('--seed <n>', 'seed for target selection (replays the same choices)')
        .option('--tags <tags>', 'only experiments whose labels match: key=value or a bare value (comma-separated)', collect)
        .option('--reporter <names>', 'reporters, comma-separated (default: terminal,json,junit,summary,html)', collect)
        .option('--json', 'print a JSON summary of the runs on stdout')
        .option('--wait-lock', 'wait while another game day holds the cluster\'s run lock, instead of exiting 5')
        .option('--lock-lease <duration>', 'how long the run lock outlives this run if it dies without releasing it', '30s')
        .option('--publish <namespace/name>', 'at the end, write the result to this ConfigMap and, run from a Job\'s pod, record it as an Event on the Job')
        .option('--control-plane <kind>', 'with no --context: embedded (the default, zero setup) or real (upstream Kubernetes with gameday\'s nodes; Linux, root, `gameday control-plane build`)', 'embedded'),
    ),
  ).action(async (paths: string[], opts) => setExit(await (await import('./commands/run.js')).runCommand(paths, opts)));

  program
    .command('validate')
    .description('check experiment files against the schema and rules; change nothing')
    .argument('<paths...>', 'experiment files or directories of them')
    .option('--json', 'print the result as JSON')
    .option('--plugin <module>', 'load faults/probes from a module (repeatable)', collect)
    .action(async (paths: string[], opts) => setExit(await (await import('./commands/validate.js')).validateCommand(paths, opts)));

  clusterOptions(
    program
      .command('plan')
      .description('show exactly what a run would touch and when; change nothing')
      .argument('<file>', 'experiment file')
      .option('--seed <n>', 'seed for target selection')
      .option('--json', 'print the plan as JSON'),
  ).action(async (file: string, opts) => setExit(await (await import('./commands/plan.js')).planCommand(file, opts)));

  program
    .command('rbac')
    .description('print the least-privilege Roles, ClusterRole and bindings a run of these experiments needs (YAML); change nothing')
    .argument('<paths...>', 'experiment files or directories of them')
    .option('--tags <tags>', 'only experiments whose labels match, as for run', collect)
    .option('--service-account <namespace/name>', 'the subject the roles are bound to', 'gameday/gameday')
    .option('--name <name>', 'name of the roles and bindings', 'gameday')
    .option('--node-access <provider>', 'how the run will reach inside nodes, for node-level faults: pod (helper pods: create and exec), sim (the node proxy), kind (docker: nothing in the API) or none', 'pod')
    .option('--publish <namespace/name>', 'the run will publish its result there (run --publish): grant that too')
    .option('--plugin <module>', 'load faults/probes from a module (repeatable)', collect)
    .action(async (paths: string[], opts) => setExit(await (await import('./commands/rbac.js')).rbacCommand(paths, opts)));

  allowOptions(
    program
      .command('recover')
      .description('revert whatever a crashed or killed run left applied (idempotent)')
      .argument('[run-dir]', 'run directory (default: every run under --out with faults still applied)')
      .option('--out <dir>', 'where run directories are', 'reports')
      .option('--kubeconfig <path>', 'kubeconfig to use instead of the one the run recorded')
      .option('--context <name>', 'context to use instead of the one the run recorded'),
  )
    .option('--node-access <how>', 'how node faults are reverted: auto, kind, pod, sim or none', 'auto')
    .option('--plugin <module>', 'load faults/probes from a module (repeatable)', collect)
    .option('--json', 'print what was reverted as JSON')
    .action(async (runDir: string | undefined, opts) => setExit(await (await import('./commands/recover.js')).recoverCommand(runDir, opts)));

  otlpOptions(
    program
      .command('report')
      .description('rebuild the reports of a run from its journal (or export it again as spans), or compare two runs')
      .argument('<run-dirs...>', 'run directory containing journal.ndjson (two with --compare)')
      .addOption(new Option('--reporter <names>', 'reporters to run (default: json,junit,summary,html)').argParser(collect))
      .option('--pdf', 'also print report.html to report.pdf with Chromium ($GAMEDAY_CHROMIUM, $PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, Playwright\'s, or /usr/bin/chromium)')
      .option('--compare', 'compare two runs: gameday report --compare <run-a> <run-b>')
      .option('--json', 'print result.json (or the comparison) on stdout'),
  ).action(async (runDirs: string[], opts) => {
    const expected = opts.compare ? 2 : 1;
    if (runDirs.length !== expected) throw new UsageError(opts.compare ? '--compare takes two run directories: gameday report --compare <run-a> <run-b>' : 'give one run directory (or two with --compare)');
    const { reportCommand, reportCompareCommand } = await import('./commands/report.js');
    setExit(opts.compare ? await reportCompareCommand(runDirs[0]!, runDirs[1]!, opts) : await reportCommand(runDirs[0]!, opts));
  });

  program
    .command('stop')
    .description('make the game day running against a cluster abort and revert now, and say what it reverted')
    .option('--context <name>', 'kubeconfig context of the cluster (default: the kubeconfig\'s current context)')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--timeout <duration>', 'how long to wait for the run to revert and let go of the run lock', '30s')
    .option('--json', 'print the result as JSON')
    .action(async (opts) => setExit(await (await import('./commands/stop.js')).stopCommand(opts)));

  const cluster = program.command('cluster').description('the kind cluster of kind-config.yaml (needs kind and Docker or podman; exit 4 when missing)');
  for (const [name, description, action] of [
    ['up', 'create the kind cluster and print how to run against it', 'clusterUpCommand'],
    ['down', 'delete the kind cluster', 'clusterDownCommand'],
  ] as const) {
    cluster
      .command(name)
      .description(description)
      .option('--config <file>', 'kind cluster config', 'kind-config.yaml')
      .option('--name <name>', 'cluster name (default: the name in the config)')
      .action(async (opts) => setExit(await (await import('./commands/cluster.js'))[action](opts)));
  }

  const sim = program.command('sim').description('the embedded cluster');
  sim
    .command('serve')
    .description('serve the embedded cluster and write a kubeconfig (context gameday-sim)')
    .option('--nodes <n>', 'worker nodes', '3')
    .option('--zones <list>', 'zones the workers are spread over', 'a,b,c')
    .option('--port <port>', 'API server port (0: any free port)', '0')
    .option('--kubeconfig <path>', 'where to write the kubeconfig', 'reports/sim-kubeconfig.yaml')
    .option('--control-plane <kind>', 'embedded (gameday\'s own API server) or real (upstream kube-apiserver, etcd, controller-manager and scheduler with gameday\'s nodes joined; Linux and root)', 'embedded')
    .option('--network-policy <mode>', 'enforce, or ignore: store NetworkPolicies without enforcing them, as a CNI without policy support does (embedded only)', 'enforce')
    .option('--api-faults <spec>', 'fail a share of API requests on purpose (embedded only): rate=0.1[,kinds=500,503,429,timeout,reset,watch-end,410][,seed=N][,hold=1s][,applied=0.5][,watchEnd=1]')
    .action(async (opts) => setExit(await (await import('./commands/sim.js')).simServeCommand(opts)));

  const controlPlane = program.command('control-plane').description('the upstream Kubernetes control plane behind --control-plane real');
  controlPlane
    .command('build')
    .description('build kube-apiserver, kube-controller-manager, kube-scheduler and etcd into the cache (needs Go) and print where')
    .option('--version <v>', 'Kubernetes version (only the pinned one can be built)')
    .option('--force', 'rebuild even when the cache holds a finished build')
    .action(async (opts) => setExit(await (await import('./commands/control-plane.js')).controlPlaneBuildCommand(opts)));
  controlPlane
    .command('where')
    .description('print which control-plane binaries would be used ($GAMEDAY_CONTROL_PLANE_DIR, $KUBEBUILDER_ASSETS, the cache, PATH)')
    .action(async () => setExit(await (await import('./commands/control-plane.js')).controlPlaneWhereCommand()));

  return program;
}

let exitCode = 0;
function setExit(code: number): void {
  exitCode = code;
}

export async function main(argv: readonly string[]): Promise<number> {
  exitCode = 0;
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return err.exitCode === 0 ? 0 : exitCodeFor('invalid');
    }
    return reportError(err);
  }
}

const invokedDirectly = process.argv[1] && new URL(import.meta.url).pathname === (await import('node:fs')).realpathSync(process.argv[1]);
if (invokedDirectly) {
  // `gameday --help | head` closes the pipe early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Open handles (watches, keep-alive sockets) must not keep a finished command alive, but a
  // large --json answer must reach a slow pipe first: exit once both streams have drained.
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise((resolve) => s.write('', resolve))));
  process.exit(code);
}
