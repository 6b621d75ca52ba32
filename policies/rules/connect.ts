/**
 * The Kafka Connect cluster: a reproducible plugin set, and RBAC that lets the config provider read
 * only the Secrets the connectors reference.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { forTypes } from "../lib/match";
import { asArray, asRecord, CLUSTER_ROLE, k8sLabel, KAFKA_CONNECT_TYPES, ROLE } from "../lib/resources";

const FLOATING_VERSION = /^(latest|release)$|snapshot|[[\](),]/i;

export const connectPluginsPinned: ResourceValidationPolicy = {
    name: "connect-plugins-pinned",
    description: "KafkaConnect build plugins are pinned: Maven artifacts to a fixed release, downloaded archives to a sha512sum.",
    enforcementLevel: "mandatory",
    validateResource: forTypes(KAFKA_CONNECT_TYPES, (connect, args, report) => {
        const label = k8sLabel("KafkaConnect", connect, args.name);
        const plugins = asArray(asRecord(asRecord(connect.spec).build).plugins);
        for (const plugin of plugins.map(asRecord)) {
            asArray(plugin.artifacts)
                .map(asRecord)
                .forEach((artifact, i) => {
                    const where = `plugin ${plugin.name ?? "(unnamed)"} artifact ${i}`;
                    if (artifact.type === "maven") {
                        const version = typeof artifact.version === "string" ? artifact.version : "";
                        if (version === "" || FLOATING_VERSION.test(version)) {
                            report(
                                `${label} ${where} (${artifact.group}:${artifact.artifact}) uses version ${version || "(unset)"}, so each image build can pull different connector code. ` +
                                    "Fix: pin an exact release version (the connector catalog's version).",
                            );
                        }
                    } else if (typeof artifact.sha512sum !== "string" || artifact.sha512sum.length === 0) {
                        report(
                            `${label} ${where} downloads ${artifact.url ?? "an artifact"} (type ${artifact.type ?? "unset"}) without sha512sum, so a changed or tampered file is built into the Connect image. ` +
                                "Fix: set sha512sum to the artifact's published SHA-512.",
                        );
                    }
                });
        }
    }),
};

export const k8sRoleSecretsLeastPrivilege: ResourceValidationPolicy = {
    name: "k8s-role-secrets-least-privilege",
    description: "Roles grant only `get` on Secrets listed by name (resourceNames); no ClusterRole grants Secrets.",
    enforcementLevel: "mandatory",
    validateResource: forTypes([ROLE, CLUSTER_ROLE], (role, args, report) => {
        const kind = args.type === CLUSTER_ROLE ? "ClusterRole" : "Role";
        const label = k8sLabel(kind, role, args.name);
        asArray(role.rules)
            .map(asRecord)
            .forEach((rule, i) => {
                const groups = asArray(rule.apiGroups).map(String);
                const resources = asArray(rule.resources).map(String);
                const verbs = asArray(rule.verbs).map(String);
                const names = asArray(rule.resourceNames).map(String);
                const coversSecrets =
                    (groups.includes("") || groups.includes("*")) && (resources.includes("secrets") || resources.includes("*"));
                if (!coversSecrets) return;
                const problems: string[] = [];
                if (kind === "ClusterRole") problems.push("a ClusterRole reaches Secrets in every namespace");
                const extra = verbs.filter((v) => v !== "get");
                if (extra.length > 0) problems.push(`verbs ${extra.join(", ")} beyond get (list/watch return every Secret's data)`);
                if (names.length === 0) problems.push("no resourceNames, so every Secret in the namespace is readable (CVE-2025-66623)");
                if (problems.length > 0) {
                    report(
                        `${label} rule ${i} grants ${verbs.join(", ") || "no verbs"} on ${resources.join(", ")}: ${problems.join("; ")}. ` +
                            "Fix: grant only get on secrets with resourceNames listing the connector Secrets, in a namespaced Role.",
                    );
                }
            });
    }),
};
