/**
 * The workloads the stack runs (the reconciliation CronJobs, the lakehouse writers' Deployments and their
 * maintenance CronJobs): runs never overlap, resources are bounded, containers run as non-root, images are named by
 * digest where required, and credentials come from Secrets rather than literals. The policy names say "cronjob"
 * because they predate the Deployments, and a name is what pack configurations refer to.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { boolean, settings, strings } from "../lib/config";
import { forTypes } from "../lib/match";
import { asArray, asRecord, CRONJOB, DEPLOYMENT, k8sLabel, KAFKA_CONNECT_TYPES, metadata } from "../lib/resources";

export function podSpec(cronJob: Record<string, unknown>): Record<string, unknown> {
    return asRecord(asRecord(asRecord(asRecord(asRecord(cronJob.spec).jobTemplate).spec).template).spec);
}

/** The pod template of a CronJob or a Deployment. */
function workloadPod(type: string, props: Record<string, unknown>): Record<string, unknown> {
    return type === DEPLOYMENT ? asRecord(asRecord(asRecord(props.spec).template).spec) : podSpec(props);
}

const WORKLOADS = [CRONJOB, DEPLOYMENT];
const kindOf = (type: string): string => (type === DEPLOYMENT ? "Deployment" : "CronJob");

function containers(pod: Record<string, unknown>): { kind: string; container: Record<string, unknown> }[] {
    return [
        ...asArray(pod.initContainers).map((c) => ({ kind: "init container", container: asRecord(c) })),
        ...asArray(pod.containers).map((c) => ({ kind: "container", container: asRecord(c) })),
    ];
}

export const cronJobConcurrencyForbid: ResourceValidationPolicy = {
    name: "cronjob-concurrency-forbid",
    description: "CronJobs set concurrencyPolicy: Forbid so a slow run is never overlapped by the next one.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([CRONJOB], (cronJob, args, report) => {
        const policy = asRecord(cronJob.spec).concurrencyPolicy;
        if (policy !== "Forbid") {
            report(
                `${k8sLabel("CronJob", cronJob, args.name)} has concurrencyPolicy ${policy ?? "unset (Allow)"}; overlapping reconciliation runs double the load on both databases and race on the report. ` +
                    'Fix: set spec.concurrencyPolicy to "Forbid".',
            );
        }
    }),
};

const limitSettings = settings<{ requiredLimits: string[]; requiredRequests: string[] }>({
    requiredLimits: strings(["cpu", "memory"], "Resources every CronJob container must limit."),
    requiredRequests: strings(["cpu", "memory"], "Resources every CronJob container must request."),
});

export const cronJobResourceLimits: ResourceValidationPolicy = {
    name: "cronjob-resource-limits",
    description: "Every CronJob and Deployment container requests and limits CPU and memory.",
    enforcementLevel: "mandatory",
    configSchema: limitSettings.schema,
    validateResource: forTypes(WORKLOADS, (workload, args, report) => {
        const { requiredLimits, requiredRequests } = limitSettings.read(args);
        const label = k8sLabel(kindOf(args.type), workload, args.name);
        for (const { kind, container } of containers(workloadPod(args.type, workload))) {
            const resources = asRecord(container.resources);
            const limits = asRecord(resources.limits);
            const requests = asRecord(resources.requests);
            const missingLimits = requiredLimits.filter((r) => limits[r] === undefined || limits[r] === "");
            const missingRequests = requiredRequests.filter((r) => requests[r] === undefined || requests[r] === "");
            if (missingLimits.length + missingRequests.length === 0) continue;
            const missing = [...missingLimits.map((r) => `limits.${r}`), ...missingRequests.map((r) => `requests.${r}`)];
            report(
                `${label} ${kind} "${container.name ?? "?"}" has no resources.${missing.join(", resources.")}; ${args.type === DEPLOYMENT ? "an unbounded table write" : "an unbounded scan of a large table"} can starve or evict the node's other pods. ` +
                    `Fix: set resources.${missing.join(" and resources.")}.`,
            );
        }
    }),
};

export const cronJobRunAsNonRoot: ResourceValidationPolicy = {
    name: "cronjob-run-as-non-root",
    description: "CronJob and Deployment containers run as non-root (runAsNonRoot: true, no runAsUser 0, not privileged).",
    enforcementLevel: "mandatory",
    validateResource: forTypes(WORKLOADS, (workload, args, report) => {
        const label = k8sLabel(kindOf(args.type), workload, args.name);
        const pod = workloadPod(args.type, workload);
        const podContext = asRecord(pod.securityContext);
        for (const { kind, container } of containers(pod)) {
            const context = asRecord(container.securityContext);
            const nonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
            const user = context.runAsUser ?? podContext.runAsUser;
            const problems: string[] = [];
            if (nonRoot !== true) problems.push(`runAsNonRoot is ${nonRoot ?? "unset"}`);
            if (user === 0) problems.push("runAsUser is 0");
            if (context.privileged === true) problems.push("it is privileged");
            if (problems.length > 0) {
                report(
                    `${label} ${kind} "${container.name ?? "?"}": ${problems.join(", ")}; a compromised ${args.type === DEPLOYMENT ? "workload" : "job"} holding database credentials would run as root. ` +
                        "Fix: set securityContext.runAsNonRoot: true with a non-zero runAsUser (pod or container level) and do not run privileged.",
                );
            }
        }
    }),
};

const CREDENTIAL_ENV = /(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)$|(^|_)(USER|USERNAME)$/i;
const URL_WITH_PASSWORD = /[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:([^\s/@]+)@/gi;
const ENV_EXPANSION = /^\$\([A-Za-z_][A-Za-z0-9_]*\)$|^\$\{[^}]+\}$/;

const workloadSettings = settings<{ allowedLiteralEnv: string[] }>({
    allowedLiteralEnv: strings([], "Environment variable names that look like credentials but may hold literal values."),
});

export const workloadCredentialsFromSecrets: ResourceValidationPolicy = {
    name: "workload-credentials-from-secrets",
    description:
        "CronJob, Deployment and Kafka Connect containers take credentials from Secrets (valueFrom.secretKeyRef), never as literal env values or passwords in URLs.",
    enforcementLevel: "mandatory",
    configSchema: workloadSettings.schema,
    validateResource: forTypes([...WORKLOADS, ...KAFKA_CONNECT_TYPES], (resource, args, report) => {
        const { allowedLiteralEnv } = workloadSettings.read(args);
        const isWorkload = WORKLOADS.includes(args.type);
        const label = k8sLabel(isWorkload ? kindOf(args.type) : "KafkaConnect", resource, args.name);
        const found: { kind: string; container: Record<string, unknown> }[] = isWorkload
            ? containers(workloadPod(args.type, resource))
            : [{ kind: "connect container", container: asRecord(asRecord(asRecord(resource.spec).template).connectContainer) }];
        for (const { kind, container } of found) {
            const who = `${label} ${kind}${container.name ? ` "${container.name}"` : ""}`;
            for (const env of asArray(container.env).map(asRecord)) {
                const name = String(env.name ?? "");
                if (!CREDENTIAL_ENV.test(name) || allowedLiteralEnv.includes(name)) continue;
                if (env.value !== undefined && env.value !== "" && env.valueFrom === undefined) {
                    report(
                        `${who} sets ${name} as a literal env value; it is stored in plain text in the object, etcd and Pulumi state. Fix: use valueFrom.secretKeyRef pointing at the synced Secret.`,
                    );
                }
            }
            const words = [...asArray(container.command), ...asArray(container.args)].map(String);
            for (const word of words) {
                for (const match of word.matchAll(URL_WITH_PASSWORD)) {
                    if (!ENV_EXPANSION.test(match[1])) {
                        report(
                            `${who} passes a connection URL with a literal password on its command line; anyone who can read the object or the process list sees it. Fix: pass the password through an env var from a Secret ($(VAR) expansion or the program's own secret file option).`,
                        );
                    }
                }
            }
        }
    }),
};

const digestSettings = settings<{ requireDigest: boolean }>({
    requireDigest: boolean(true, "Container images must be named by digest (image@sha256:...), not by a tag alone."),
});
const BY_DIGEST = /@sha256:[0-9a-f]{64}$/;

export const workloadImageDigest: ResourceValidationPolicy = {
    name: "workload-image-digest",
    description:
        "CronJob and Deployment containers name their image by digest, so the code that runs with credentials is the code that was reviewed.",
    enforcementLevel: "mandatory",
    configSchema: digestSettings.schema,
    validateResource: forTypes(WORKLOADS, (workload, args, report) => {
        if (!digestSettings.read(args).requireDigest) return;
        const label = k8sLabel(kindOf(args.type), workload, args.name);
        // Only the wording of the fix depends on which workload it is: the check is the same for all.
        const lakehouse = metadata(workload).labels["app.kubernetes.io/name"] === "cdc-lakehouse";
        const [setting, reads] = lakehouse
            ? ["lakehouse.image", "writes the lakehouse tables"]
            : ["reconciler.image", "reads both databases"];
        for (const { kind, container } of containers(workloadPod(args.type, workload))) {
            const image = String(container.image ?? "");
            if (BY_DIGEST.test(image)) continue;
            report(
                `${label} ${kind} "${container.name ?? "?"}" runs image "${image}" by tag; whoever can push that tag changes the code that ${reads} on the next ${args.type === DEPLOYMENT ? "restart" : "run"}. ` +
                    `Fix: set ${setting} to <repository>@sha256:<digest> (docker buildx imagetools inspect <image> prints it).`,
            );
        }
    }),
};
