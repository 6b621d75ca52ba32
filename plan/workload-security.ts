/**
 * The one security posture of every pod the stack runs itself (reconciliation CronJobs, lakehouse writers and
 * their maintenance jobs): a fixed non-root uid the images declare as their USER, no privilege escalation, no
 * capabilities, a read-only root file system. Fresh objects each call, so no caller can edit another's.
 */

/** A non-root uid/gid that exists in distroless and most slim images; images/*\/Dockerfile set the same USER. */
export const WORKLOAD_UID = 65532;

export function podSecurityContext() {
    return {
        runAsNonRoot: true,
        runAsUser: WORKLOAD_UID,
        runAsGroup: WORKLOAD_UID,
        fsGroup: WORKLOAD_UID,
        seccompProfile: { type: "RuntimeDefault" },
    };
}

export function containerSecurityContext() {
    return {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] as string[] },
    };
}
