/**
 * Every connector of the stack as plain data: name, class, tasks, state and config. The Strimzi
 * KafkaConnector builder and the local sandbox's REST client both start from this list.
 */
import type { StackSpec } from "../model/spec";
import type { ConnectorState } from "../model/options";
import { CONNECTOR_PLUGINS, PluginId } from "./catalog";
import type { ConnectorContext } from "./context";
import { converterConfig } from "./converters";
import { sinkConnectorConfig } from "./sinks";
import { ConnectorConfig, sourceConnectorConfig } from "./sources";
import { withChangeEventTracing } from "./tracing";

export interface RenderedConnector {
    name: string;
    pipeline: string;
    role: "source" | "sink";
    plugin: PluginId;
    connectorClass: string;
    tasksMax: number;
    state: ConnectorState;
    config: ConnectorConfig;
}

export const SOURCE_PLUGINS = {
    sqlserver: "debezium-sqlserver",
    postgres: "debezium-postgres",
    mysql: "debezium-mysql",
    mariadb: "debezium-mariadb",
} as const satisfies Record<string, PluginId>;

const SINK_PLUGINS = {
    debezium: "debezium-jdbc-sink",
    confluent: "confluent-jdbc-sink",
} as const satisfies Record<string, PluginId>;

export function renderConnectors(spec: StackSpec, ctx: ConnectorContext): RenderedConnector[] {
    const connectors = spec.pipelines.flatMap((pipeline): RenderedConnector[] => {
        const sourcePlugin = SOURCE_PLUGINS[pipeline.source.kind];
        const sinkPlugin = SINK_PLUGINS[pipeline.sink.implementation];
        return [
            {
                name: pipeline.source.connectorName,
                pipeline: pipeline.name,
                role: "source" as const,
                plugin: sourcePlugin,
                connectorClass: CONNECTOR_PLUGINS[sourcePlugin].connectorClass,
                tasksMax: pipeline.source.tasksMax,
                state: pipeline.source.state,
                config: withChangeEventTracing(spec, sourceConnectorConfig(pipeline, ctx)),
            },
            {
                name: pipeline.sink.connectorName,
                pipeline: pipeline.name,
                role: "sink" as const,
                plugin: sinkPlugin,
                connectorClass: CONNECTOR_PLUGINS[sinkPlugin].connectorClass,
                tasksMax: pipeline.sink.tasksMax,
                state: pipeline.sink.state,
                config: sinkConnectorConfig(spec, pipeline, ctx),
            },
        ];
    });
    return connectors.map((c) => ({ ...c, config: { ...c.config, ...converterConfig(spec, c.role, ctx) } }));
}

/** The plugins the stack's pipelines actually use, in catalog order. */
export function pluginsInUse(spec: StackSpec): PluginId[] {
    const used = new Set<PluginId>();
    for (const p of spec.pipelines) {
        used.add(SOURCE_PLUGINS[p.source.kind]);
        used.add(SINK_PLUGINS[p.sink.implementation]);
    }
    return (Object.keys(CONNECTOR_PLUGINS) as PluginId[]).filter((id) => used.has(id));
}

/** The body Kafka Connect's REST API takes (`PUT /connectors/{name}/config`). */
export function restConfig(connector: RenderedConnector): ConnectorConfig {
    return {
        "connector.class": connector.connectorClass,
        "tasks.max": String(connector.tasksMax),
        ...connector.config,
    };
}
