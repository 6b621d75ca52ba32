/**
 * Validates rendered Kubernetes objects strictly (a key the schema does not declare is an error: the
 * upstream schemas accept unknown keys, which would let a `taskMax` typo through) against:
 *
 * - Strimzi `kafka.strimzi.io/v1`: the CRDs scripts/setup.sh derives from Strimzi's released jars
 *   with Strimzi's own generator (test/contracts/derive-schemas.ts), and the Access Operator's
 *   `access.strimzi.io/v1alpha1` KafkaAccess CRD from its released API jar;
 * - Vault Secrets Operator `secrets.hashicorp.com/v1beta1`: the pinned CRDs in
 *   test/fixtures/vault-secrets-operator (see PROVENANCE there);
 * - Kubernetes built-ins and prometheus-operator `monitoring.coreos.com/v1`: the validators the
 *   `kubernetes-models` and `@kubernetes-models/prometheus-operator` packages compile from the upstream
 *   OpenAPI documents and Go API types.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parseAllDocuments } from "yaml";
import { kafkaAccessCrdFile, StrimziKind, strimziCrdFile } from "../contracts/derive-schemas";
import { REPO_ROOT } from "./stack-files";

export const VSO_FIXTURE_DIR = path.join(REPO_ROOT, "test", "fixtures", "vault-secrets-operator");

type Schema = Record<string, any>;

/** An ajv standalone validator as the kubernetes-models packages ship them (no error messages compiled in). */
interface CompiledValidator {
    (data: unknown): boolean;
    errors?: Array<{ instancePath: string; keyword: string; params: Record<string, unknown> }> | null;
}

type Source = { crd: () => string; version: string } | { pkg: string; schema: string };

const strimzi = (kind: StrimziKind): Source => ({ crd: () => strimziCrdFile(kind), version: "v1" });
const vso = (plural: string): Source => ({
    crd: () => path.join(VSO_FIXTURE_DIR, `secrets.hashicorp.com_${plural}.yaml`),
    version: "v1beta1",
});
const k8s = (schema: string): Source => ({ pkg: "kubernetes-models", schema });
const prometheus = (kind: string): Source => ({
    pkg: "@kubernetes-models/prometheus-operator",
    schema: `ComGithubPrometheusOperatorPrometheusOperatorPkgApisMonitoringV1${kind}`,
});

const SOURCES: Record<string, Source> = {
    "kafka.strimzi.io/v1/Kafka": strimzi("Kafka"),
    "kafka.strimzi.io/v1/KafkaConnect": strimzi("KafkaConnect"),
    "kafka.strimzi.io/v1/KafkaConnector": strimzi("KafkaConnector"),
    "kafka.strimzi.io/v1/KafkaNodePool": strimzi("KafkaNodePool"),
    "kafka.strimzi.io/v1/KafkaTopic": strimzi("KafkaTopic"),
    "kafka.strimzi.io/v1/KafkaUser": strimzi("KafkaUser"),
    "access.strimzi.io/v1alpha1/KafkaAccess": { crd: kafkaAccessCrdFile, version: "v1alpha1" },
    "secrets.hashicorp.com/v1beta1/VaultAuth": vso("vaultauths"),
    "secrets.hashicorp.com/v1beta1/VaultConnection": vso("vaultconnections"),
    "secrets.hashicorp.com/v1beta1/VaultDynamicSecret": vso("vaultdynamicsecrets"),
    "secrets.hashicorp.com/v1beta1/VaultStaticSecret": vso("vaultstaticsecrets"),
    "monitoring.coreos.com/v1/PodMonitor": prometheus("PodMonitor"),
    "monitoring.coreos.com/v1/PrometheusRule": prometheus("PrometheusRule"),
    "monitoring.coreos.com/v1/ServiceMonitor": prometheus("ServiceMonitor"),
    "apps/v1/Deployment": k8s("IoK8sApiAppsV1Deployment"),
    "batch/v1/CronJob": k8s("IoK8sApiBatchV1CronJob"),
    "networking.k8s.io/v1/NetworkPolicy": k8s("IoK8sApiNetworkingV1NetworkPolicy"),
    "policy/v1/PodDisruptionBudget": k8s("IoK8sApiPolicyV1PodDisruptionBudget"),
    "rbac.authorization.k8s.io/v1/Role": k8s("IoK8sApiRbacV1Role"),
    "rbac.authorization.k8s.io/v1/RoleBinding": k8s("IoK8sApiRbacV1RoleBinding"),
    "v1/ConfigMap": k8s("IoK8sApiCoreV1ConfigMap"),
    "v1/Namespace": k8s("IoK8sApiCoreV1Namespace"),
    "v1/Secret": k8s("IoK8sApiCoreV1Secret"),
    "v1/ServiceAccount": k8s("IoK8sApiCoreV1ServiceAccount"),
};

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const validators = new Map<string, (manifest: Manifest) => string[]>();

type Manifest = { apiVersion: string; kind: string } & Record<string, unknown>;

/** CRD schemas leave `metadata` to the API server's ObjectMeta; these are the fields we may set. */
const OBJECT_META_FIELDS = new Set(["name", "generateName", "namespace", "labels", "annotations", "finalizers", "ownerReferences"]);

function undeclaredKeys(value: unknown, s: Schema, at: string, out: string[]): void {
    if (at.split(".").length === 2 && at.endsWith(".metadata") && !s.properties && value && typeof value === "object") {
        for (const key of Object.keys(value)) if (!OBJECT_META_FIELDS.has(key)) out.push(`${at}.${key} is not an ObjectMeta field`);
        return;
    }
    if (value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
        if (s.items) value.forEach((item, i) => undeclaredKeys(item, s.items, `${at}[${i}]`, out));
        return;
    }
    if (s["x-kubernetes-preserve-unknown-fields"] && !s.properties) return;
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        const declared = s.properties?.[key];
        if (declared) {
            undeclaredKeys(child, declared, `${at}.${key}`, out);
        } else if (s.additionalProperties && typeof s.additionalProperties === "object") {
            undeclaredKeys(child, s.additionalProperties, `${at}.${key}`, out);
        } else if (!s.additionalProperties && !s["x-kubernetes-preserve-unknown-fields"]) {
            out.push(`${at}.${key} is not declared by the schema`);
        }
    }
}

function crdValidator(file: string, version: string): (manifest: Manifest) => string[] {
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: run scripts/setup.sh`);
    const crd = parseAllDocuments(fs.readFileSync(file, "utf8"))
        .map((d) => d.toJS())
        .find((d) => d && d.kind === "CustomResourceDefinition");
    const schema = crd.spec.versions.find((v: { name: string }) => v.name === version).schema.openAPIV3Schema as Schema;
    const validate = ajv.compile(schema);
    // The API server declares these for every custom resource; Strimzi's generator spells them out, Fabric8's does not.
    const declared: Schema = {
        ...schema,
        properties: { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" }, ...schema.properties },
    };
    return (manifest) => {
        const problems = validate(manifest) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
        undeclaredKeys(manifest, declared, manifest.kind, problems);
        return problems;
    };
}

interface Reads {
    keys: Set<string>;
    enumerated: boolean;
}

/**
 * A view of `value` that records which keys of each object the validator looks up. The compiled
 * validators read exactly the properties their schema declares and enumerate only maps (labels,
 * ConfigMap data, resource lists), so a key never looked up in a non-enumerated object is one the
 * schema does not declare. A free-form object (`{}` schema) is never looked into, so its keys are
 * reported too: a false alarm there is visible, a silently accepted typo is not.
 */
function traced(value: unknown, reads: WeakMap<object, Reads>): unknown {
    if (value === null || typeof value !== "object") return value;
    let record = reads.get(value);
    if (!record) reads.set(value, (record = { keys: new Set(), enumerated: false }));
    const seen = record;
    return new Proxy(value, {
        get(target, key, receiver) {
            if (typeof key === "string" && Object.prototype.hasOwnProperty.call(target, key)) {
                seen.keys.add(key);
                return traced((target as Record<string, unknown>)[key], reads);
            }
            return Reflect.get(target, key, receiver);
        },
        has(target, key) {
            if (typeof key === "string") seen.keys.add(key);
            return Reflect.has(target, key);
        },
        ownKeys(target) {
            seen.enumerated = true;
            return Reflect.ownKeys(target);
        },
    });
}

function unreadKeys(value: unknown, reads: WeakMap<object, Reads>, at: string, out: string[]): void {
    if (value === null || typeof value !== "object") return;
    if (Array.isArray(value)) {
        value.forEach((item, i) => unreadKeys(item, reads, `${at}[${i}]`, out));
        return;
    }
    const record = reads.get(value);
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
        if (record?.enumerated || record?.keys.has(key)) unreadKeys(child, reads, `${at}.${key}`, out);
        else out.push(`${at}.${key} is not declared by the schema`);
    }
}

/**
 * Both packages are ESM-only with an `import`-only exports map, which CommonJS `require` cannot
 * resolve; loading the file by path goes through Node's require(esm) (Node >= 20.19).
 */
function packageValidator(pkg: string, schema: string): (manifest: Manifest) => string[] {
    const file = path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "_schemas", `${schema}.js`);
    const validate = (require(file) as { validate: CompiledValidator }).validate;
    return (manifest) => {
        const reads = new WeakMap<object, Reads>();
        const problems = validate(traced(manifest, reads))
            ? []
            : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword} ${JSON.stringify(e.params)}`);
        unreadKeys(manifest, reads, manifest.kind, problems);
        return problems;
    };
}

/** Every problem with one object; an empty list means it is valid. */
export function validateManifest(manifest: Manifest): string[] {
    const key = `${manifest.apiVersion}/${manifest.kind}`;
    let validator = validators.get(key);
    if (!validator) {
        const source = SOURCES[key];
        if (!source) throw new Error(`no schema source for ${key} in test/helpers/k8s-schemas.ts`);
        validator = "crd" in source ? crdValidator(source.crd(), source.version) : packageValidator(source.pkg, source.schema);
        validators.set(key, validator);
    }
    return validator(manifest);
}
