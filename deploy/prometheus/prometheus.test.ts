// The Prometheus configuration and alert rules, checked by promtool (Debian's `prometheus` package): the config
// and the rules are valid, and every alert's unit tests in rules.test.yml pass. The Kubernetes scrape job is
// also checked against the rendered manifests: it keeps every Souk pod, on the port that serves /metrics.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, parse as parseYaml, stringify } from 'yaml';

const here = fileURLToPath(new URL('.', import.meta.url));
const run = promisify(execFile);

/** Why a tool's tests are skipped, or undefined when it runs; `required` tools fail under CI=true instead. */
async function available(command: string, args: string[], required: boolean): Promise<string | undefined> {
  try {
    await run(command, args);
    return undefined;
  } catch {
    if (required && process.env.CI === 'true')
      throw new Error(`${command} is not installed, and CI=true needs it (.ci/run installs it)`);
    return `${command} is not installed: its tests here are skipped${required ? ' (CI=true fails instead)' : ''}`;
  }
}
// promtool is Debian's `prometheus` package, which .ci/run installs; kubectl is not a Debian package.
const noPromtool = await available('promtool', ['--version'], true);
const noKubectl = await available('kubectl', ['version', '--client'], false);
for (const reason of [noPromtool, noKubectl]) if (reason !== undefined) console.log(`# ${reason}`);

const promtool = async (...args: string[]) => {
  try {
    const { stdout, stderr } = await run('promtool', args, { cwd: here });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: stdout + stderr };
  }
};

interface ScrapeConfig {
  job_name: string;
  kubernetes_sd_configs?: unknown[];
  relabel_configs?: { source_labels?: string[]; regex?: string; action?: string; target_label?: string }[];
}
const config = parseYaml(await readFile(path.join(here, 'prometheus.yml'), 'utf8')) as {
  scrape_configs: ScrapeConfig[];
  rule_files: string[];
};

describe('Prometheus configuration and alerts', () => {
  it('when promtool checks the configuration, then it is valid', { skip: noPromtool }, async () => {
    const full = await promtool('check', 'config', 'prometheus.yml');
    if (full.ok) return;
    // Debian builds Prometheus without Kubernetes service discovery; then the rest is checked without that job.
    assert.match(full.output, /field kubernetes_sd_configs not found/, full.output);
    console.log(
      '# this promtool has no Kubernetes SD: the config is checked without the souk-kubernetes job',
    );
    const folder = await mkdtemp(path.join(tmpdir(), 'souk-prometheus-'));
    try {
      await cp(here, folder, { recursive: true });
      const withoutKubernetes = {
        ...config,
        scrape_configs: config.scrape_configs.filter((job) => job.kubernetes_sd_configs === undefined),
      };
      await writeFile(path.join(folder, 'prometheus.yml'), stringify(withoutKubernetes));
      const { stdout, stderr } = await run('promtool', ['check', 'config', 'prometheus.yml'], {
        cwd: folder,
      });
      assert.match(stdout + stderr, /SUCCESS/);
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('when promtool checks the rules, then every rule is valid', { skip: noPromtool }, async () => {
    const checked = await promtool('check', 'rules', ...config.rule_files);
    assert.ok(checked.ok, checked.output);
    assert.match(checked.output, /SUCCESS: \d+ rules found/);
  });

  it(
    'when the rules are unit-tested, then every alert has a test and all pass',
    { skip: noPromtool },
    async () => {
      const rules = parseYaml(await readFile(path.join(here, 'rules.yml'), 'utf8')) as {
        groups: { rules: { alert?: string }[] }[];
      };
      const tests = parseYaml(await readFile(path.join(here, 'rules.test.yml'), 'utf8')) as {
        tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
      };
      const alerts = rules.groups.flatMap((group) => group.rules.flatMap((rule) => rule.alert ?? []));
      const firing = new Set(
        tests.tests.flatMap((test) =>
          test.alert_rule_test.filter((t) => t.exp_alerts.length > 0).map((t) => t.alertname),
        ),
      );
      const quiet = new Set(
        tests.tests.flatMap((test) =>
          test.alert_rule_test.filter((t) => t.exp_alerts.length === 0).map((t) => t.alertname),
        ),
      );
      assert.deepEqual(
        alerts.filter((alert) => !firing.has(alert) || !quiet.has(alert)),
        [],
        'each alert is tested both firing and not firing',
      );
      const tested = await promtool('test', 'rules', 'rules.test.yml');
      assert.ok(tested.ok, tested.output);
      assert.match(tested.output, /SUCCESS/);
    },
  );

  it(
    'when the Kubernetes job meets the rendered pods, then it keeps every Souk pod on its metrics port',
    { skip: noKubectl },
    async () => {
      const job = config.scrape_configs.find((scrape) => scrape.kubernetes_sd_configs !== undefined);
      const relabelling = job?.relabel_configs;
      assert.ok(relabelling, 'a scrape job with Kubernetes SD');
      const { stdout } = await run(
        'kubectl',
        ['kustomize', fileURLToPath(new URL('../k8s/overlays/prod', import.meta.url))],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      const deployments = parseAllDocuments(stdout)
        .map((document) => document.toJSON())
        .filter((object) => object?.kind === 'Deployment');
      assert.equal(deployments.length, 6);
      for (const deployment of deployments) {
        const pod = deployment.spec.template;
        const container = pod.spec.containers[0];
        const metricsPort = container.ports.find(
          (port: { containerPort: number }) =>
            String(port.containerPort) === pod.metadata.annotations['prometheus.io/port'],
        );
        // The labels Kubernetes SD gives the target for this pod and its metrics port.
        const meta: Record<string, string> = {
          __meta_kubernetes_pod_container_port_name: metricsPort.name,
          __meta_kubernetes_namespace: deployment.metadata.namespace,
          __meta_kubernetes_pod_name: `${deployment.metadata.name}-0`,
          ...Object.fromEntries(
            Object.entries(pod.metadata.labels as Record<string, string>).map(([key, value]) => [
              `__meta_kubernetes_pod_label_${key.replace(/[^a-zA-Z0-9_]/g, '_')}`,
              value,
            ]),
          ),
        };
        for (const rule of relabelling) {
          const source = (rule.source_labels ?? []).map((label) => meta[label] ?? '').join(';');
          if (rule.action === 'keep')
            assert.match(source, new RegExp(`^(?:${rule.regex})$`), `${deployment.metadata.name} is kept`);
          else if (rule.target_label === 'service')
            assert.equal(source, deployment.metadata.name, `${deployment.metadata.name}: service label`);
        }
      }
    },
  );
});
