/** The seed's report location (000 §5: /var/reports/reconciliation-{report_id}.json): the reconciler's default and the CronJob's mount. */
export const REPORT_DIR = "/var/reports";
