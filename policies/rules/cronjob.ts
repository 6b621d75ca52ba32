/**
 * The reconciliation CronJob (and any workload the stack runs): runs never overlap, resources are
 * bounded, containers run as non-root, and credentials come from Secrets rather than literals.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { boolean, settings, strings } from "../lib/config";
import { forTypes } from "../lib/match";
import { asArray, asRecord, CRONJOB, k8sLabel, KAFKA_CONNECT_TYPES } from "../lib/resources";

export function podSpec(cronJob: Record<string, any>): Record<string, any> {
    return asRecord(asRecord(asRecord(asRecord(asRecord(cronJob.spec).jobTemplate).spec).template).spec);
}

function containers(pod: Record<string, any>): { kind: string; container: Record<string, any> }[] {
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
    description: "Every CronJob container requests and limits CPU and memory.",
    enforcementLevel: "mandatory",
    configSchema: limitSettings.schema,
    validateResource: forTypes([CRONJOB], (cronJob, args, report) => {
        const { requiredLimits, requiredRequests } = limitSettings.read(args);
        const label = k8sLabel("CronJob", cronJob, args.name);
        for (const { kind, container } of containers(podSpec(cronJob))) {
            const resources = asRecord(container.resources);
            const limits = asRecord(resources.limits);
            const requests = asRecord(resources.requests);
            const missingLimits = requiredLimits.filter((r) => limits[r] === undefined || limits[r] === "");
            const missingRequests = requiredRequests.filter((r) => requests[r] === undefined || requests[r] === "");
            if (missingLimits.length + missingRequests.length === 0) continue;
            const missing = [...missingLimits.map((r) => `limits.${r}`), ...missingRequests.map((r) => `requests.${r}`)];
            report(
                `${label} ${kind} "${container.name ?? "?"}" has no resources.${missing.join(", resources.")}; an unbounded scan of a large table can starve or evict the node's other pods. ` +
                    `Fix: set resources.${missing.join(" and resources.")}.`,
            );
        }
    }),
};

export const cronJobRunAsNonRoot: ResourceValidationPolicy = {
    name: "cronjob-run-as-non-root",
    description: "CronJob containers run as non-root (runAsNonRoot: true, no runAsUser 0, not privileged).",
    enforcementLevel: "mandatory",
    validateResource: forTypes([CRONJOB], (cronJob, args, report) => {
        const label = k8sLabel("CronJob", cronJob, args.name);
        const pod = podSpec(cronJob);
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
                    `${label} ${kind} "${container.name ?? "?"}": ${problems.join(", ")}; a compromised job holding database credentials would run as root. ` +
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
    description: "CronJob and Kafka Connect containers take credentials from Secrets (valueFrom.secretKeyRef), never as literal env values or passwords in URLs.",
    enforcementLevel: "mandatory",
    configSchema: workloadSettings.schema,
    validateResource: forTypes([CRONJOB, ...KAFKA_CONNECT_TYPES], (resource, args, report) => {
        const { allowedLiteralEnv } = workloadSettings.read(args);
        const isCron = args.type === CRONJOB;
        const label = k8sLabel(isCron ? "CronJob" : "KafkaConnect", resource, args.name);
        const found: { kind: string; container: Record<string, any> }[] = isCron
            ? containers(podSpec(resource))
            : [{ kind: "connect container", container: asRecord(asRecord(asRecord(resource.spec).template).connectContainer) }];
        for (const { kind, container } of found) {
            const who = `${label} ${kind}${container.name ? ` "${container.name}"` : ""}`;
            for (const env of asArray(container.env).map(asRecord)) {
                const name = String(env.name ?? "");
                if (!CREDENTIAL_ENV.test(name) || allowedLiteralEnv.includes(name)) continue;
                if (env.value !== undefined && env.value !== "" && env.valueFrom === undefined) {
                    report(`${who} sets ${name} as a literal env value; it is stored in plain text in the object, etcd and Pulumi state. Fix: use valueFrom.secretKeyRef pointing at the synced Secret.`);
                }
            }
            const words = [...asArray(container.command), ...asArray(container.args)].map(String);
            for (const word of words) {
                for (const match of word.matchAll(URL_WITH_PASSWORD)) {
                    if (!ENV_EXPANSION.test(match[1])) {
                        report(`${who} passes a connection URL with a literal password on its command line; anyone who can read the object or the process list sees it. Fix: pass the password through an env var from a Secret ($(VAR) expansion or the program's own secret file option).`);
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
    description: "CronJob containers name their image by digest, so the code that runs with database credentials is the code that was reviewed.",
    enforcementLevel: "mandatory",
    configSchema: digestSettings.schema,
    validateResource: forTypes([CRONJOB], (cronJob, args, report) => {
        if (!digestSettings.read(args).requireDigest) return;
        const label = k8sLabel("CronJob", cronJob, args.name);
        for (const { kind, container } of containers(podSpec(cronJob))) {
            const image = String(container.image ?? "");
            if (BY_DIGEST.test(image)) continue;
            report(
                `${label} ${kind} "${container.name ?? "?"}" runs image "${image}" by tag; whoever can push that tag changes the code that reads both databases on the next run. ` +
                    "Fix: set reconciler.image to <repository>@sha256:<digest> (docker buildx imagetools inspect <image> prints it).",
            );
        }
    }),
};
