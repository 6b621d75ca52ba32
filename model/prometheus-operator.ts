/** The prometheus-operator API group and version of PodMonitor and PrometheusRule. */
export const MONITORING_API_VERSION = "monitoring.coreos.com/v1";
