/**
 * Stack-level completeness: every table the stack captures — named in a source's include list,
 * CDC-enabled by a SQL Server script, or listed for reconciliation — has a source connector covering
 * it, its data topic, a sink reading that topic and a reconciliation entry. A gap in any of these is a
 * table that silently stops replicating or is never verified.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { boolean, settings } from "../lib/config";
import {
    ConnectorView,
    dataTopicNames,
    literalIncludedTables,
    sinkConsumes,
    sourceCovers,
    splitList,
    TableRef,
    viewOf,
} from "../lib/connectors";
import {
    asArray,
    asRecord,
    CONFIGMAP,
    CRONJOB,
    isKafkaConnector,
    k8sLabel,
    metadata,
    MSSQL_SCRIPT,
    ResourceLike,
    topicsByName,
} from "../lib/resources";

interface CapturedTable {
    table: TableRef;
    /** Where the table was found, for messages. */
    origin: string;
    urn: string;
}

function parseTableName(name: string): TableRef | undefined {
    const parts = name
        .trim()
        .replace(/["[\]`]/g, "")
        .split(".");
    if (parts.some((p) => p.length === 0)) return undefined;
    if (parts.length === 2) return { schema: parts[0], table: parts[1] };
    if (parts.length === 3) return { database: parts[0], schema: parts[1], table: parts[2] };
    return undefined;
}

/** Same table if the names agree, comparing the schema (or MySQL database) and the database when both name one. */
function sameTable(a: TableRef, b: TableRef): boolean {
    const qualifier = (t: TableRef): string => (t.schema ?? t.database ?? "").toLowerCase();
    if (a.table.toLowerCase() !== b.table.toLowerCase() || qualifier(a) !== qualifier(b)) return false;
    if (a.schema !== undefined && b.schema !== undefined && a.database && b.database)
        return a.database.toLowerCase() === b.database.toLowerCase();
    return true;
}

const display = (t: TableRef): string => [t.database, t.schema, t.table].filter((p) => p !== undefined).join(".");

/** Tables `sys.sp_cdc_enable_table` enables in the SQL Server setup scripts. */
function cdcEnabledTables(script: ResourceLike): TableRef[] {
    // The stack's scripts enable CDC idempotently in updateScript; createScript may do it too.
    const text = [script.props.createScript, script.props.updateScript].filter((t) => typeof t === "string").join("\n");
    const tables: TableRef[] = [];
    for (const call of text.split(/sp_cdc_enable_table/i).slice(1)) {
        const args = call.split(/;|\bGO\b|\bEXEC\b/i)[0];
        const schema = /@source_schema\s*=\s*N?'([^']+)'/i.exec(args)?.[1];
        const table = /@source_name\s*=\s*N?'([^']+)'/i.exec(args)?.[1];
        if (schema && table) tables.push({ schema, table });
    }
    return tables;
}

/** Source tables of `--table <source>[=<target>]` arguments and of table lists in mounted JSON config. */
function reconciledTables(resources: readonly ResourceLike[]): { tables: TableRef[]; jobs: ResourceLike[] } {
    const jobs = resources.filter((r) => r.type === CRONJOB);
    const tables: TableRef[] = [];
    const add = (entry: unknown): void => {
        if (typeof entry === "string") {
            const parsed = parseTableName(entry.split("=")[0]);
            if (parsed) tables.push(parsed);
        } else if (entry && typeof entry === "object") {
            const o = entry as Record<string, unknown>;
            const source = o.source ?? o.sourceTable ?? o.source_table;
            if (typeof source === "string") add(source);
            else if (source && typeof source === "object") {
                const s = source as Record<string, unknown>;
                const name = s.table ?? s.name;
                if (typeof name === "string") add([s.database, s.schema, name].filter((p) => typeof p === "string").join("."));
            }
        }
    };
    const scan = (value: unknown, depth = 0): void => {
        if (depth > 6 || value === null || typeof value !== "object") return;
        if (Array.isArray(value)) return value.forEach((v) => scan(v, depth + 1));
        for (const [key, v] of Object.entries(value)) {
            if (/^(tables|tablePairs|table_pairs)$/.test(key) && Array.isArray(v)) v.forEach(add);
            else scan(v, depth + 1);
        }
    };
    const configMaps = new Map(resources.filter((r) => r.type === CONFIGMAP).map((r) => [metadata(r.props).name, r]));
    for (const job of jobs) {
        const pod = asRecord(asRecord(asRecord(asRecord(asRecord(job.props.spec).jobTemplate).spec).template).spec);
        for (const container of asArray(pod.containers).map(asRecord)) {
            const words = [...asArray(container.command), ...asArray(container.args)].map(String);
            words.forEach((word, i) => {
                if (word === "--table" && i + 1 < words.length) add(words[i + 1]);
                else if (word.startsWith("--table=")) add(word.slice("--table=".length));
            });
        }
        const sources = asArray(pod.volumes)
            .map(asRecord)
            .flatMap((volume) => [
                asRecord(volume.configMap),
                ...asArray(asRecord(volume.projected).sources).map((s) => asRecord(asRecord(s).configMap)),
            ]);
        for (const source of sources) {
            const configMap = typeof source.name === "string" ? configMaps.get(source.name) : undefined;
            const data = asRecord(configMap?.props.data);
            // A volume with `items` mounts only those keys.
            const keys = source.items !== undefined ? asArray(source.items).map((item) => String(asRecord(item).key)) : Object.keys(data);
            for (const key of keys) {
                try {
                    scan(JSON.parse(String(data[key])));
                } catch {
                    // Not JSON: not a table list this policy can read.
                }
            }
        }
    }
    return { tables, jobs };
}

const coverageSettings = settings<{ requireReconciliation: boolean }>({
    requireReconciliation: boolean(true, "Whether every captured table must have a reconciliation entry."),
});

export const capturedTableCoverage: StackValidationPolicy = {
    name: "captured-table-coverage",
    description:
        "Every captured table has a source connector covering it (table.include.list), a declared data topic, a sink reading that topic and a reconciliation entry.",
    enforcementLevel: "mandatory",
    configSchema: coverageSettings.schema,
    validateStack: (args, report) => {
        const { requireReconciliation } = coverageSettings.read(args);
        const resources: readonly PolicyResource[] = args.resources;
        const connectors = resources.filter((r) => isKafkaConnector(r.type)).map((r) => ({ r, view: viewOf(r) }));
        const sources = connectors.filter(({ view }) => view.role === "source");
        const sinks = connectors.filter(({ view }) => view.role === "sink").map(({ view }) => view);
        const topics = topicsByName(resources);
        const reconciliation = reconciledTables(resources);

        const captured: CapturedTable[] = [];
        for (const { r, view } of sources) {
            for (const table of literalIncludedTables(view))
                captured.push({ table, origin: `the table.include.list of ${view.label}`, urn: r.urn });
        }
        // Debezium's signal tables (signal.data.collection) are captured for their watermarks, never replicated.
        const signalTables = sources
            .flatMap(({ view }) => splitList(view.config["signal.data.collection"]).map(parseTableName))
            .filter((t): t is TableRef => t !== undefined);
        for (const script of resources.filter((r) => r.type === MSSQL_SCRIPT)) {
            for (const table of cdcEnabledTables(script).filter((t) => !signalTables.some((s) => sameTable(s, t))))
                captured.push({ table, origin: `SQL Server CDC enablement ${JSON.stringify(script.name)}`, urn: script.urn });
        }
        for (const table of reconciliation.tables) {
            captured.push({ table, origin: "the reconciliation job's table list", urn: reconciliation.jobs[0]?.urn ?? "" });
        }
        if (captured.length === 0) args.notApplicable("no captured tables found");

        const seen: TableRef[] = [];
        for (const { table, origin, urn } of captured) {
            if (seen.some((t) => sameTable(t, table))) continue;
            seen.push(table);
            const name = display(table);
            const covering: ConnectorView[] = sources.map((s) => s.view).filter((v) => sourceCovers(v, table));
            if (covering.length === 0) {
                report(
                    `Table ${name} is captured (${origin}) but no source connector's table.include.list covers it, so its changes never reach Kafka. ` +
                        "Fix: add it to the source's tables in the stack config (or remove it from the CDC setup and the reconciliation list).",
                    urn,
                );
                continue;
            }
            for (const source of covering) {
                const names = dataTopicNames(source, table);
                if (names === undefined) continue; // the source renames topics; their names cannot be derived
                const declared = names.filter((n) => topics.has(n));
                if (declared.length === 0) {
                    report(
                        `Table ${name} (captured by ${source.label}) has no declared topic ${names.map((n) => `"${n}"`).join(" or ")}; it would be auto-created with broker defaults or not at all. ` +
                            "Fix: declare the data topic with the environment's replication (the topic plan does this for every table in the stack config).",
                        urn,
                    );
                    continue;
                }
                if (!declared.some((topic) => sinks.some((sink) => sinkConsumes(sink, topic)))) {
                    report(
                        `Table ${name}: no sink connector reads its topic ${declared.map((n) => `"${n}"`).join(", ")}, so its changes never reach the target database. ` +
                            "Fix: add the topic to the pipeline sink's topics.",
                        urn,
                    );
                }
            }
            if (requireReconciliation && !reconciliation.tables.some((t) => sameTable(t, table))) {
                const where =
                    reconciliation.jobs.length === 0
                        ? "this stack has no reconciliation CronJob"
                        : `the reconciliation job${reconciliation.jobs.length > 1 ? "s" : ""} ${reconciliation.jobs.map((j) => k8sLabel("CronJob", j.props, j.name)).join(", ")} do(es) not list it`;
                report(
                    `Table ${name} is replicated but never reconciled: ${where}, so lost or diverged rows would go unnoticed. ` +
                        "Fix: add the table to the reconciliation job's table list (it is derived from the pipelines' tables).",
                    urn,
                );
            }
        }
    },
};
