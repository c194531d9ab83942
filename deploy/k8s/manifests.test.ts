// The Kubernetes manifests, tested without an API server: each overlay renders with kubectl's Kustomize, every
// object passes the Kubernetes schemas (kubernetes-models) and has no field the API does not know, every
// Deployment has probes, resources and a locked-down securityContext, each probe asks the chassis for a path
// and port it really serves, and the NetworkPolicy admits exactly the callers the code has.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SHUTDOWN_DEADLINE_MS, createService } from '@souk/chassis';
import { MemoryConfigSource } from '@souk/chassis/testing';
import ts from 'typescript';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { gatewayConfig, DEFAULT_ROUTES } from '../../services/gateway/src/gateway.config.ts';
import { settings as inventorySettings } from '../../services/inventory/src/app.ts';
import { settings as notificationsSettings } from '../../services/notifications/src/app.ts';
import { settings as ordersSettings } from '../../services/orders/src/app.ts';
import { settings as paymentsSettings } from '../../services/payments/src/app.ts';
import { settings as usersSettings } from '../../services/users/src/app.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const OVERLAYS = ['dev', 'prod'] as const;
const SERVICES = ['gateway', 'users', 'orders', 'payments', 'inventory', 'notifications'] as const;
const SETTINGS = {
  gateway: gatewayConfig,
  users: usersSettings,
  orders: ordersSettings,
  payments: paymentsSettings,
  inventory: inventorySettings,
  notifications: notificationsSettings,
};

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered manifests are untyped YAML */
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [key: string]: any;
};

const run = promisify(execFile);

async function kubectlAvailable(): Promise<string | undefined> {
  try {
    await run('kubectl', ['version', '--client']);
    return undefined;
  } catch {
    // Not a Debian package, so CI cannot install it: skipped with this line, even under CI=true.
    return 'kubectl (with Kustomize) is not installed: the Kubernetes manifest tests are skipped';
  }
}
const skip = await kubectlAvailable();
if (skip !== undefined) console.log(`# ${skip}`);

async function render(overlay: string): Promise<K8sObject[]> {
  const { stdout } = await run('kubectl', ['kustomize', path.join(root, 'deploy/k8s/overlays', overlay)], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseAllDocuments(stdout)
    .map((document) => document.toJSON() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}
const rendered = new Map<string, K8sObject[]>();
if (skip === undefined) for (const overlay of OVERLAYS) rendered.set(overlay, await render(overlay));
const objects = (overlay: string) => rendered.get(overlay)!;
const ofKind = (overlay: string, kind: string) => objects(overlay).filter((object) => object.kind === kind);
const named = (overlay: string, kind: string, name: string) => {
  const found = ofKind(overlay, kind).find((object) => object.metadata.name === name);
  assert.ok(found, `${overlay}: ${kind}/${name} exists`);
  return found;
};

/** kubernetes-models' module and interface for an object, e.g. `kubernetes-models/apps/v1/Deployment`. */
const modelOf = (object: K8sObject) => ({
  module: `kubernetes-models/${object.apiVersion}/${object.kind}`,
  type: `I${object.kind}`,
});

/**
 * Finds fields the API would not know: walks the object along kubernetes-models' own type declarations (with
 * the TypeScript checker), so a misspelt or misplaced key is caught where the schema validation lets it pass.
 */
function unknownFieldChecker(models: { module: string; type: string }[]) {
  const file = path.join(root, 'deploy/k8s/__models__.ts');
  const text = models
    .map(
      (model, i) =>
        `import type { ${model.type} as M${i} } from '${model.module}';\nexport type T${i} = M${i};`,
    )
    .join('\n');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ESNext,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === file ? ts.createSourceFile(name, text, language) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const checker = program.getTypeChecker();
  const aliases = program
    .getSourceFile(file)!
    .statements.filter(ts.isTypeAliasDeclaration)
    .map((alias) => checker.getTypeAtLocation(alias.name));
  for (const [i, alias] of aliases.entries())
    assert.ok(alias.getProperties().length > 0, `${models[i]!.module} declares ${models[i]!.type}`);

  const walk = (value: unknown, type: ts.Type, where: string, problems: string[]) => {
    if (value === null || typeof value !== 'object') return;
    const target = checker.getNonNullableType(type);
    if (Array.isArray(value)) {
      const element = checker.getIndexTypeOfType(target, ts.IndexKind.Number);
      if (element === undefined) return void problems.push(`${where} is a list where the API wants none`);
      value.forEach((item, index) => walk(item, element, `${where}[${index}]`, problems));
      return;
    }
    const candidates = target.isUnion() ? target.types : [target];
    for (const [key, child] of Object.entries(value)) {
      const property = candidates.map((candidate) => candidate.getProperty(key)).find(Boolean);
      if (property !== undefined) {
        walk(child, checker.getTypeOfSymbol(property), `${where}.${key}`, problems);
        continue;
      }
      const index = candidates
        .map((candidate) => checker.getIndexTypeOfType(candidate, ts.IndexKind.String))
        .find(Boolean);
      if (index === undefined) problems.push(`${where}.${key} is not a field the API knows`);
      else walk(child, index, `${where}.${key}`, problems);
    }
  };
  return (object: K8sObject): string[] => {
    const i = models.findIndex((model) => model.module === modelOf(object).module);
    const problems: string[] = [];
    walk(object, aliases[i]!, `${object.kind}/${object.metadata.name}`, problems);
    return problems;
  };
}

/**
 * Kustomize wraps a Secret's long base64 values at 76 columns; the API server's decoder (Go's encoding/base64)
 * skips line breaks, the schema's `byte` format does not, so they are taken out before validating.
 */
function withoutBase64LineBreaks(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret' || object.data === undefined) return object;
  const data = Object.fromEntries(
    Object.entries(object.data as Record<string, string>).map(([key, value]) => [
      key,
      value.replaceAll('\n', ''),
    ]),
  );
  return { ...object, data };
}

/** What stands for a secret when the overlay ships none (prod): shaped like the real value, never used. */
const placeholder = (key: string) =>
  key === 'amqp-url'
    ? 'amqp://placeholder.invalid:5672'
    : key === 'redis-url'
      ? 'redis://placeholder.invalid:6379'
      : key.startsWith('database-url-')
        ? 'postgres://placeholder.invalid:5432/souk'
        : `placeholder-${key}`.padEnd(40, '-');

const containerOf = (deployment: K8sObject) => {
  const containers = deployment.spec.template.spec.containers as any[];
  assert.equal(containers.length, 1, `${deployment.metadata.name} runs one container`);
  return containers[0];
};

/** The environment a container gets: its env (secrets resolved from the overlay's Secret, if it has one) and envFrom. */
function containerEnvironment(overlay: string, deployment: K8sObject): NodeJS.ProcessEnv {
  const container = containerOf(deployment);
  const secret = ofKind(overlay, 'Secret').find((object) => object.metadata.name === 'souk-secrets');
  const env: NodeJS.ProcessEnv = {};
  for (const from of container.envFrom ?? []) {
    Object.assign(env, named(overlay, 'ConfigMap', from.configMapRef.name).data);
  }
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref === undefined) env[variable.name] = variable.value;
    else if (secret === undefined) env[variable.name] = placeholder(ref.key);
    else {
      const encoded = secret.data?.[ref.key];
      assert.ok(encoded !== undefined, `${overlay}: Secret souk-secrets has ${ref.key}`);
      env[variable.name] = Buffer.from(encoded, 'base64').toString('utf8');
    }
  }
  return env;
}

/** The file the container's SOUK_CONFIG_FILE names, read from the ConfigMap mounted at its folder. */
function mountedConfig(
  overlay: string,
  deployment: K8sObject,
  env: NodeJS.ProcessEnv,
): Record<string, unknown> {
  const container = containerOf(deployment);
  const file = env.SOUK_CONFIG_FILE!;
  const mount = (container.volumeMounts as any[]).find((m) => path.dirname(file) === m.mountPath);
  assert.ok(mount, `${deployment.metadata.name}: ${file} is in a mounted volume`);
  const volume = (deployment.spec.template.spec.volumes as any[]).find((v) => v.name === mount.name);
  const configMap = named(overlay, 'ConfigMap', volume.configMap.name);
  const text = configMap.data[path.basename(file)];
  assert.ok(typeof text === 'string', `${deployment.metadata.name}: ConfigMap has ${path.basename(file)}`);
  return (parseYaml(text) ?? {}) as Record<string, unknown>;
}

const portNumber = (container: any, port: number | string) =>
  typeof port === 'number' ? port : (container.ports as any[]).find((p) => p.name === port)?.containerPort;

describe('Kubernetes manifests', { skip }, () => {
  for (const overlay of OVERLAYS) {
    it(`when the ${overlay} overlay is rendered, then it has every service's Deployment, Service, PDB and HPA`, () => {
      for (const service of SERVICES)
        for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler'])
          named(overlay, kind, service);
      named(overlay, 'Ingress', 'gateway');
      named(overlay, 'NetworkPolicy', 'default-deny-ingress');
      const namespaces = new Set(objects(overlay).map((object) => object.metadata.namespace));
      namespaces.delete(undefined); // the Namespace object itself
      assert.equal(namespaces.size, 1, `${overlay}: one namespace for everything`);
    });
  }

  it('when every object is validated against the Kubernetes schemas, then none fails and none has an unknown field', async () => {
    const all = OVERLAYS.flatMap((overlay) => objects(overlay));
    const models = [...new Map(all.map((object) => [modelOf(object).module, modelOf(object)])).values()];
    const unknownFields = unknownFieldChecker(models);
    const problems: string[] = [];
    for (const object of all) {
      const module = (await import(modelOf(object).module)) as Record<string, new (data: unknown) => any>;
      const Model = module[object.kind];
      assert.ok(Model, `kubernetes-models has ${object.apiVersion} ${object.kind}`);
      try {
        new Model(withoutBase64LineBreaks(object)).validate();
      } catch (error) {
        problems.push(`${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
      }
      problems.push(...unknownFields(object));
    }
    assert.deepEqual(problems, []);
  });

  it('when a field is misspelt, then the unknown-field check names it', () => {
    const deployment = structuredClone(named('dev', 'Deployment', 'orders'));
    deployment.spec.template.spec.containers[0].readinesProbe = { httpGet: { path: '/health/ready' } };
    deployment.spec.template.spec.containers[0].resources.limit = { cpu: '1' };
    deployment.spec.strategy.rollingUpdate.maxSurgeX = 1;
    const problems = unknownFieldChecker([modelOf(deployment)])(deployment);
    assert.deepEqual(problems.toSorted(), [
      'Deployment/orders.spec.strategy.rollingUpdate.maxSurgeX is not a field the API knows',
      'Deployment/orders.spec.template.spec.containers[0].readinesProbe is not a field the API knows',
      'Deployment/orders.spec.template.spec.containers[0].resources.limit is not a field the API knows',
    ]);
  });

  for (const overlay of OVERLAYS) {
    it(`when ${overlay}'s Deployments are read, then each has probes, resources, a drain-safe stop and a locked-down securityContext`, () => {
      for (const deployment of ofKind(overlay, 'Deployment')) {
        const name = deployment.metadata.name;
        const pod = deployment.spec.template.spec;
        const container = containerOf(deployment);
        assert.ok(deployment.spec.replicas >= 1, `${name}: replicas`);
        for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
          assert.ok(container[probe]?.httpGet?.path, `${name}: ${probe} is an HTTP GET`);
        for (const bound of ['requests', 'limits'])
          for (const resource of ['cpu', 'memory'])
            assert.ok(container.resources?.[bound]?.[resource], `${name}: resources.${bound}.${resource}`);
        assert.equal(pod.securityContext.runAsNonRoot, true, `${name}: pod runs as non-root`);
        assert.ok(pod.securityContext.runAsUser > 0, `${name}: a non-root uid`);
        assert.equal(pod.securityContext.seccompProfile?.type, 'RuntimeDefault', `${name}: seccomp`);
        assert.deepEqual(
          {
            readOnlyRootFilesystem: container.securityContext?.readOnlyRootFilesystem,
            allowPrivilegeEscalation: container.securityContext?.allowPrivilegeEscalation,
            drop: container.securityContext?.capabilities?.drop,
          },
          { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, drop: ['ALL'] },
          `${name}: container securityContext`,
        );
        const tmp = (container.volumeMounts as any[]).find((mount) => mount.mountPath === '/tmp');
        assert.ok(
          (pod.volumes as any[]).some((volume) => volume.name === tmp?.name && volume.emptyDir),
          `${name}: a writable emptyDir at /tmp`,
        );
        const [command, seconds] = container.lifecycle?.preStop?.exec?.command ?? [];
        assert.equal(command, 'sleep', `${name}: preStop waits for the endpoints to drop the pod`);
        const stopping = Number(seconds) * 1000 + SHUTDOWN_DEADLINE_MS;
        assert.ok(
          pod.terminationGracePeriodSeconds * 1000 > stopping,
          `${name}: terminationGracePeriodSeconds outlasts preStop + the ${SHUTDOWN_DEADLINE_MS} ms drain`,
        );
      }
    });
  }

  for (const overlay of OVERLAYS) {
    it(`when ${overlay}'s probes are sent to the service built from its manifest's config, then each path and port is served`, async () => {
      for (const service of SERVICES) {
        const deployment = named(overlay, 'Deployment', service);
        const container = containerOf(deployment);
        const env = containerEnvironment(overlay, deployment);
        assert.equal(env.SOUK_SERVICE, service, `${service}: the image is told which service to run`);
        // Static discovery: the pod's DNS names do not resolve here, and discovery plays no part in the probes.
        const built = await createService({
          name: service,
          description: service,
          config: SETTINGS[service],
          env: { ...env, SOUK__DISCOVERY__KIND: 'static', SOUK__LOG__LEVEL: 'silent' },
          configSource: new MemoryConfigSource(mountedConfig(overlay, deployment, env)),
        });
        try {
          const listens = built.config.current.http;
          assert.equal(listens.host, '0.0.0.0', `${service}: listens on the pod's address`);
          const servicePort = named(overlay, 'Service', service).spec.ports.find(
            (p: any) => p.name === 'http',
          );
          assert.equal(
            portNumber(container, servicePort.targetPort),
            listens.port,
            `${service}: Service port`,
          );
          for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
            const { path: probePath, port } = container[probe].httpGet;
            assert.equal(
              portNumber(container, port),
              listens.port,
              `${service}: ${probe} port is the HTTP port`,
            );
            const answer = await built.app.inject({ method: 'GET', url: probePath });
            const served = probe === 'readinessProbe' ? [200, 503] : [200];
            assert.ok(
              served.includes(answer.statusCode),
              `${service}: ${probe} ${probePath} answers ${answer.statusCode}`,
            );
            assert.match(
              answer.headers['content-type'] ?? '',
              /json/,
              `${service}: ${probePath} is a health route`,
            );
          }
          const metrics = await built.app.inject({ method: 'GET', url: '/metrics' });
          assert.equal(metrics.statusCode, 200, `${service}: /metrics`);
          const annotations = deployment.spec.template.metadata.annotations;
          assert.equal(Number(annotations['prometheus.io/port']), listens.port, `${service}: scrape port`);
          assert.equal(annotations['prometheus.io/path'], '/metrics');
          if (service === 'users') {
            const grpc = (built.config.current as unknown as { grpc: { host: string; port: number } }).grpc;
            assert.equal(grpc.host, '0.0.0.0', 'users: gRPC listens on the pod address');
            assert.equal(portNumber(container, 'grpc'), grpc.port, 'users: the grpc containerPort');
          }
        } finally {
          await built.stop();
        }
      }
    });
  }

  it('when the NetworkPolicy is read, then each service admits exactly the gateway, its callers in the code, and Prometheus', () => {
    const expected = expectedCallers();
    const policies = ofKind('prod', 'NetworkPolicy');
    const deny = named('prod', 'NetworkPolicy', 'default-deny-ingress');
    assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ['Ingress'] });
    const gateway = policies.find(
      (p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === 'gateway',
    );
    assert.deepEqual(
      gateway?.spec.ingress.map((rule: any) => rule.from),
      [undefined],
      'the gateway takes traffic from anywhere',
    );
    for (const service of SERVICES.filter((s) => s !== 'gateway')) {
      const policy = policies.find(
        (p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/name'] === service,
      );
      assert.ok(policy, `${service} has a NetworkPolicy`);
      const admitted = new Set<string>();
      for (const rule of policy.spec.ingress as any[])
        for (const from of rule.from)
          for (const port of rule.ports) {
            const who =
              from.podSelector?.matchLabels?.['app.kubernetes.io/name'] ??
              `namespace:${from.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']}`;
            admitted.add(`${who}->${port.port}`);
          }
      assert.deepEqual([...admitted].toSorted(), expected.get(service)!.toSorted(), `${service}'s callers`);
    }
  });
});

/**
 * Who calls each service, from the code: the gateway for every service its routes (or its key set fetch)
 * reach, each `upstream('<name>')` over HTTP, and a client of users.proto over gRPC; Prometheus scrapes them all.
 */
function expectedCallers(): Map<string, string[]> {
  const callers = new Map<string, Set<string>>(
    SERVICES.map((s) => [s, new Set(['namespace:monitoring->http'])]),
  );
  for (const route of DEFAULT_ROUTES) callers.get(route.service)!.add('gateway->http');
  for (const caller of SERVICES) {
    for (const file of sourceFiles(path.join(root, 'services', caller, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const [, callee] of text.matchAll(/\.upstream\('([a-z]+)'\)/g))
        callers.get(callee!)!.add(`${caller}->http`);
      if (caller !== 'users' && text.includes('users.proto')) callers.get('users')!.add(`${caller}->grpc`);
    }
  }
  return new Map([...callers].map(([service, set]) => [service, [...set]]));
}

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .map((file) => path.join(folder, file));
}
