/**
 * The resource types the pack inspects and small readers for their inputs. The pack runs with its own
 * dependencies (policies/package.json), so it matches on type tokens instead of importing provider SDKs;
 * generic CustomResources have no class to match anyway.
 */

export const TOPIC = "kafka:index/topic:Topic";
export const CRONJOB = "kubernetes:batch/v1:CronJob";
export const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
export const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
export const SECRET = "kubernetes:core/v1:Secret";
export const VAULT_STATIC_SECRET = "kubernetes:secrets.hashicorp.com/v1beta1:VaultStaticSecret";
export const ROLE = "kubernetes:rbac.authorization.k8s.io/v1:Role";
export const CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole";
export const VAULT_POLICY = "vault:index/policy:Policy";
export const PG_ROLE = "postgresql:index/role:Role";
export const PG_GRANT = "postgresql:index/grant:Grant";
export const PG_DEFAULT_PRIVILEGES = "postgresql:index/defaultPrivileges:DefaultPrivileges";
export const MSSQL_SCRIPT = "mssql:index/script:Script";
export const STACK = "pulumi:pulumi:Stack";

/** Strimzi 1.x serves only v1; v1beta2 is listed so a stack mid-migration is still checked. */
export const KAFKA_CONNECT_TYPES = ["kubernetes:kafka.strimzi.io/v1:KafkaConnect", "kubernetes:kafka.strimzi.io/v1beta2:KafkaConnect"];
export const KAFKA_CONNECTOR_TYPES = [
    "kubernetes:kafka.strimzi.io/v1:KafkaConnector",
    "kubernetes:kafka.strimzi.io/v1beta2:KafkaConnector",
];

export const KAFKA_USER_TYPES = ["kubernetes:kafka.strimzi.io/v1:KafkaUser", "kubernetes:kafka.strimzi.io/v1beta2:KafkaUser"];
export const KAFKA_ACCESS = "kubernetes:access.strimzi.io/v1alpha1:KafkaAccess";
export const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const POD_DISRUPTION_BUDGET = "kubernetes:policy/v1:PodDisruptionBudget";

export const isKafkaConnect = (type: string): boolean => KAFKA_CONNECT_TYPES.includes(type);
export const isKafkaConnector = (type: string): boolean => KAFKA_CONNECTOR_TYPES.includes(type);

/** Just enough of a resource for the readers below: resource and stack policies both have these. */
export interface ResourceLike {
    type: string;
    name: string;
    urn: string;
    props: Record<string, unknown>;
}

export type Props = Record<string, unknown>;

export function asRecord(value: unknown): Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function asArray(value: unknown): unknown[] {
    return Array.isArray(value) ? value : [];
}

export function metadata(props: Props): {
    name?: string;
    namespace?: string;
    labels: Record<string, unknown>;
    annotations: Record<string, unknown>;
} {
    const meta = asRecord(props.metadata);
    return {
        name: typeof meta.name === "string" ? meta.name : undefined,
        namespace: typeof meta.namespace === "string" ? meta.namespace : undefined,
        labels: asRecord(meta.labels),
        annotations: asRecord(meta.annotations),
    };
}

/** `Kind "namespace/name"` for Kubernetes objects, falling back to the Pulumi name when unnamed. */
export function k8sLabel(kind: string, props: Props, pulumiName: string): string {
    const meta = metadata(props);
    if (!meta.name) return `${kind} ${JSON.stringify(pulumiName)} (Pulumi name; metadata.name not set)`;
    return `${kind} "${meta.namespace ? `${meta.namespace}/` : ""}${meta.name}"`;
}

export function topicLabel(props: Props, pulumiName: string): string {
    return typeof props.name === "string" ? `Kafka topic "${props.name}"` : `Kafka topic ${JSON.stringify(pulumiName)} (Pulumi name)`;
}

function ofType(resources: readonly ResourceLike[], ...types: string[]): ResourceLike[] {
    return resources.filter((r) => types.includes(r.type));
}

/** Topic resources by their Kafka name. */
export function topicsByName(resources: readonly ResourceLike[]): Map<string, ResourceLike> {
    const map = new Map<string, ResourceLike>();
    for (const r of ofType(resources, TOPIC)) {
        if (typeof r.props.name === "string") map.set(r.props.name, r);
    }
    return map;
}

/** Kafka topic config values as strings (the provider takes a map of strings). */
export function topicConfig(props: Props): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(asRecord(props.config))) out[key] = String(value);
    return out;
}

/** The labels of the pods a Deployment or CronJob creates. */
export function podTemplateLabels(type: string, props: Props): Record<string, unknown> {
    const spec = asRecord(props.spec);
    const template = type === DEPLOYMENT ? asRecord(spec.template) : asRecord(asRecord(asRecord(spec.jobTemplate).spec).template);
    return asRecord(asRecord(template.metadata).labels);
}

/**
 * Whether a Kubernetes label selector (matchLabels and matchExpressions) selects these labels. An empty
 * selector selects everything, as in a NetworkPolicy's podSelector; a PodDisruptionBudget's empty selector
 * selects nothing in policy/v1, which its callers handle.
 */
export function selects(selector: unknown, labels: Record<string, unknown>): boolean {
    const s = asRecord(selector);
    const matchLabels = Object.entries(asRecord(s.matchLabels)).every(([key, value]) => labels[key] === value);
    const matchExpressions = asArray(s.matchExpressions).every((raw) => {
        const e = asRecord(raw);
        const key = String(e.key ?? "");
        const values = asArray(e.values).map(String);
        const has = Object.hasOwn(labels, key);
        switch (e.operator) {
            case "In":
                return has && values.includes(String(labels[key]));
            case "NotIn":
                return !has || !values.includes(String(labels[key]));
            case "Exists":
                return has;
            case "DoesNotExist":
                return !has;
            default:
                return false;
        }
    });
    return matchLabels && matchExpressions;
}
