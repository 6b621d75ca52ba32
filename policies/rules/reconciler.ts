/**
 * The reconciliation CronJob reads every replicated row of both databases with credentials of its own. Where the
 * environment requires it (prod), each database URL the reconciler will use must require an encrypted connection
 * that verifies the server against a CA mounted in the pod. The URLs are followed the way the reconciler finds
 * them: --source/--target on its command line, else the --config file (a mounted ConfigMap key) and the inline
 * URL, mounted file (urlFile) or environment variable (urlEnv) it names, down to the Vault Secrets Operator
 * template or Secret the stack renders it from.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { asArray, asRecord, CONFIGMAP, CRONJOB, k8sLabel, metadata, ResourceLike, SECRET, VAULT_STATIC_SECRET } from "../lib/resources";
import { isWriterConfig } from "../lib/lakehouse";
import { encryptionSettings, reconcilerUrlTls } from "../lib/tls";
import { podSpec } from "./cronjob";

/** A value the reconciler will read, or why the pack cannot see it. */
type Found = { text: string; where: string } | { unreadable: string; where: string };

class StackObjects {
    private readonly byKey = new Map<string, ResourceLike>();

    constructor(resources: readonly ResourceLike[]) {
        for (const r of resources) {
            const name = r.type === VAULT_STATIC_SECRET ? asRecord(asRecord(r.props.spec).destination).name : metadata(r.props).name;
            if (typeof name === "string") this.byKey.set(`${r.type} ${metadata(r.props).namespace ?? ""}/${name}`, r);
        }
    }

    configMapValue(namespace: string, name: string, key: string, where: string): Found {
        const configMap = this.byKey.get(`${CONFIGMAP} ${namespace}/${name}`);
        const value = asRecord(configMap?.props.data)[key];
        if (typeof value === "string") return { text: value, where };
        return {
            unreadable: configMap ? `ConfigMap "${name}" has no key "${key}"` : `ConfigMap "${name}" is not created by this stack`,
            where,
        };
    }

    /** A key of a Secret the stack renders: a Vault Secrets Operator template, or a Secret's own data. */
    secretValue(namespace: string, name: string, key: string, where: string): Found {
        const synced = this.byKey.get(`${VAULT_STATIC_SECRET} ${namespace}/${name}`);
        if (synced) {
            const template = asRecord(
                asRecord(asRecord(asRecord(asRecord(synced.props.spec).destination).transformation).templates)[key],
            ).text;
            if (typeof template === "string") return { text: template, where: `${where}, rendered by the VaultStaticSecret's template` };
            return {
                unreadable: `the VaultStaticSecret writing Secret "${name}" has no template for "${key}", so its value comes from Vault unseen`,
                where,
            };
        }
        const secret = this.byKey.get(`${SECRET} ${namespace}/${name}`);
        if (secret) {
            const plain = asRecord(secret.props.stringData)[key];
            if (typeof plain === "string") return { text: plain, where };
            const encoded = asRecord(secret.props.data)[key];
            if (typeof encoded === "string") return { text: Buffer.from(encoded, "base64").toString("utf8"), where };
        }
        return { unreadable: `Secret "${name}" (key "${key}") is not rendered by this stack`, where };
    }
}

/** The ConfigMap or Secret key a container sees at `file`, if a volume of either kind is mounted there. */
function mountedItem(
    pod: Record<string, unknown>,
    container: Record<string, unknown>,
    file: string,
): { kind: "configMap" | "secret"; name: string; key: string } | undefined {
    const mount = asArray(container.volumeMounts)
        .map(asRecord)
        .filter(
            (m) =>
                typeof m.mountPath === "string" && (file === m.mountPath || file.startsWith(`${String(m.mountPath).replace(/\/$/, "")}/`)),
        )
        .sort((a, b) => String(b.mountPath).length - String(a.mountPath).length)[0];
    if (!mount) return undefined;
    const volume = asArray(pod.volumes)
        .map(asRecord)
        .find((v) => v.name === mount.name);
    const rest = file.slice(String(mount.mountPath).replace(/\/$/, "").length + 1);
    const relative = typeof mount.subPath === "string" && mount.subPath !== "" ? (rest ? `${mount.subPath}/${rest}` : mount.subPath) : rest;
    for (const kind of ["configMap", "secret"] as const) {
        const source = asRecord(volume?.[kind]);
        const name = kind === "configMap" ? source.name : source.secretName;
        if (typeof name !== "string") continue;
        const items = asArray(source.items).map(asRecord);
        const key = source.items === undefined ? relative : items.find((i) => i.path === relative)?.key;
        return typeof key === "string" ? { kind, name, key } : undefined;
    }
    return undefined;
}

/** Every database URL one container of a CronJob will use, with where it comes from; none if it is not the reconciler. */
/** The value the container's environment variable `name` gets: literal, or from a Secret or ConfigMap key. */
function envValue(objects: StackObjects, namespace: string, container: Record<string, unknown>, name: string, what: string): Found {
    const env = asArray(container.env)
        .map(asRecord)
        .find((e) => e.name === name);
    const fromSecret = asRecord(asRecord(env?.valueFrom).secretKeyRef);
    const fromConfigMap = asRecord(asRecord(env?.valueFrom).configMapKeyRef);
    if (typeof env?.value === "string") return { text: env.value, where: what };
    if (typeof fromSecret.name === "string")
        return objects.secretValue(
            namespace,
            fromSecret.name,
            String(fromSecret.key),
            `${what}: Secret "${fromSecret.name}" key "${fromSecret.key}"`,
        );
    if (typeof fromConfigMap.name === "string")
        return objects.configMapValue(
            namespace,
            fromConfigMap.name,
            String(fromConfigMap.key),
            `${what}: ConfigMap "${fromConfigMap.name}" key "${fromConfigMap.key}"`,
        );
    return { unreadable: "the container sets no such variable from a value, Secret or ConfigMap", where: what };
}

function reconcilerUrls(
    objects: StackObjects,
    namespace: string,
    pod: Record<string, unknown>,
    container: Record<string, unknown>,
): { side: string; found: Found }[] {
    const words = [...asArray(container.command), ...asArray(container.args)].map(String);
    const flag = (name: string): string | undefined => {
        const at = words.findIndex((w) => w === `--${name}` || w.startsWith(`--${name}=`));
        if (at < 0) return undefined;
        return words[at].includes("=") ? words[at].slice(words[at].indexOf("=") + 1) : words[at + 1];
    };
    const file = (path: string, what: string): Found => {
        const item = mountedItem(pod, container, path);
        if (!item) return { unreadable: `nothing from a ConfigMap or Secret is mounted at ${path}`, where: what };
        const where = `${what}: ${item.kind === "secret" ? "Secret" : "ConfigMap"} "${item.name}" key "${item.key}"`;
        return item.kind === "secret"
            ? objects.secretValue(namespace, item.name, item.key, where)
            : objects.configMapValue(namespace, item.name, item.key, where);
    };
    const configPath = flag("config");
    const config = configPath ? file(configPath, `--config ${configPath}`) : undefined;
    let parsed: Record<string, unknown> | undefined;
    if (config && "text" in config) {
        try {
            parsed = asRecord(JSON.parse(config.text));
        } catch {
            // The reconciler also reads YAML; the stack writes JSON, and anything else is reported as unreadable below.
        }
    }
    // The lakehouse maintenance CronJob's file: no reconciler would start on it, and its catalog URL is the config layer's to check.
    if (parsed && isWriterConfig(parsed)) return [];
    const urls: { side: string; found: Found }[] = [];
    for (const side of ["source", "target"]) {
        const inline = flag(side);
        if (inline !== undefined) {
            urls.push({ side, found: { text: inline, where: `--${side} on the command line` } });
            continue;
        }
        if (!config) continue;
        if (!parsed) {
            urls.push({
                side,
                found: {
                    unreadable: "unreadable" in config ? config.unreadable : "the config file is not JSON",
                    where: `--config ${configPath}`,
                },
            });
            continue;
        }
        const value = parsed[side];
        const endpoint = asRecord(value);
        const where = `config ${side}`;
        if (typeof value === "string") urls.push({ side, found: { text: value, where } });
        else if (typeof endpoint.url === "string") urls.push({ side, found: { text: endpoint.url, where: `${where}.url` } });
        else if (typeof endpoint.urlFile === "string")
            urls.push({ side, found: file(endpoint.urlFile, `${where}.urlFile ${endpoint.urlFile}`) });
        else if (typeof endpoint.urlEnv === "string")
            urls.push({ side, found: envValue(objects, namespace, container, endpoint.urlEnv, `${where}.urlEnv ${endpoint.urlEnv}`) });
        else urls.push({ side, found: { unreadable: `the config file gives no ${side} URL the reconciler would accept`, where } });
    }
    return urls;
}

const reconcilerEncryption = encryptionSettings("reconciler");

export const reconcilerDatabaseEncryption: StackValidationPolicy = {
    name: "reconciler-database-encryption",
    description:
        "Where the environment requires it (prod), every database URL a reconciliation CronJob uses requires an encrypted connection that verifies the server (PostgreSQL sslmode verify-full/verify-ca, MySQL/MariaDB verify modes, SQL Server encrypt without trustServerCertificate) against a CA mounted in the pod.",
    enforcementLevel: "mandatory",
    configSchema: reconcilerEncryption.schema,
    validateStack: (args, report) => {
        const { requireEncryption } = reconcilerEncryption.read(args);
        if (!requireEncryption) args.notApplicable("this environment does not require encrypted reconciler connections");
        const jobs = args.resources.filter((r) => r.type === CRONJOB);
        if (jobs.length === 0) args.notApplicable("no CronJobs in this stack");
        const objects = new StackObjects(args.resources);
        const why = "the reconciler reads every replicated row of this database and logs in with its own credentials";
        const fix =
            "Fix: set the pipeline's verifying mode in the stack config (the reconciler's URLs repeat it: sslmode=verify-full&sslrootcert=<CA>, ssl-mode=verify-full&ssl-ca=<CA>, encrypt=true&trustServerCertificate=false) and set connect.databaseCaSecret.";
        for (const job of jobs) {
            const pod = podSpec(job.props);
            const namespace = metadata(job.props).namespace ?? "";
            for (const container of asArray(pod.containers).map(asRecord)) {
                const who = `${k8sLabel("CronJob", job.props, job.name)} container "${container.name ?? "?"}"`;
                for (const { side, found } of reconcilerUrls(objects, namespace, pod, container)) {
                    if ("unreadable" in found) {
                        report(
                            `${who}: the ${side} database URL (${found.where}) cannot be checked: ${found.unreadable}. Fix: render it from the stack (the reconciler's URL templates) so its TLS settings are known.`,
                            job.urn,
                        );
                        continue;
                    }
                    const tls = reconcilerUrlTls(found.text);
                    if (tls.problem) {
                        report(
                            `${who}: the ${side} database URL (${found.where}) has ${tls.settings || "no TLS settings"}: ${tls.problem}; ${why}. ${fix}`,
                            job.urn,
                        );
                    } else if (tls.caFile && tls.caFile !== "system" && !mountedItem(pod, container, tls.caFile)) {
                        report(
                            `${who}: the ${side} database URL (${found.where}) verifies against ${tls.caFile}, but no Secret or ConfigMap is mounted there, so the reconciler cannot connect. ` +
                                "Fix: mount connect.databaseCaSecret read-only at that path (the stack does this whenever the Secret is set).",
                            job.urn,
                        );
                    }
                }
            }
        }
    },
};
