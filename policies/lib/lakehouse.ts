/**
 * The lakehouse writer's configuration file, as the stack mounts it from a ConfigMap: JSON with `kafka` and
 * `pipelines` at the top (lakehouse/schema/writer-config.schema.json). Readers for the policies that must tell it
 * from the reconciler's file and that check what it connects to.
 */
import { asRecord, CONFIGMAP, metadata, ResourceLike } from "./resources";

/** The reconciler's file has `source` and `target`; the writer's `kafka` and `pipelines`, which the reconciler refuses. */
export function isWriterConfig(doc: Record<string, unknown>): boolean {
    return (
        doc.kafka !== null &&
        typeof doc.kafka === "object" &&
        Array.isArray(doc.pipelines) &&
        doc.source === undefined &&
        doc.target === undefined
    );
}

interface IcebergCatalogRef {
    /** The role in the catalog's SQLAlchemy URL. */
    role: string;
    database: string;
    /** `ConfigMap "<ns>/<name>" key "<key>"`, for messages. */
    where: string;
}

/** Every Iceberg SQL catalog a writer's file in the stack's ConfigMaps connects to. */
export function icebergCatalogs(resources: readonly ResourceLike[]): IcebergCatalogRef[] {
    const out: IcebergCatalogRef[] = [];
    for (const configMap of resources.filter((r) => r.type === CONFIGMAP)) {
        const meta = metadata(configMap.props);
        for (const [key, text] of Object.entries(asRecord(configMap.props.data))) {
            let doc: Record<string, unknown>;
            try {
                doc = asRecord(JSON.parse(String(text)));
            } catch {
                continue;
            }
            if (!isWriterConfig(doc)) continue;
            for (const catalog of Object.values(asRecord(doc.catalogs)).map(asRecord)) {
                if (typeof catalog.uri !== "string" || !URL.canParse(catalog.uri)) continue;
                const url = new URL(catalog.uri);
                out.push({
                    role: decodeURIComponent(url.username),
                    database: decodeURIComponent(url.pathname.replace(/^\//, "")),
                    where: `ConfigMap "${meta.namespace ?? ""}/${meta.name ?? configMap.name}" key "${key}"`,
                });
            }
        }
    }
    return out;
}
