/**
 * Kafka identities: where the environment authenticates to Kafka (prod), Connect and every KafkaAccess use a
 * KafkaUser this stack declares, whose ACLs the stack controls; and no KafkaUser, anywhere, is granted a whole
 * topic, group or transactional id namespace.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { boolean, settings } from "../lib/config";
import { forTypes } from "../lib/match";
import { asArray, asRecord, isKafkaConnect, k8sLabel, KAFKA_ACCESS, KAFKA_USER_TYPES, metadata, ResourceLike } from "../lib/resources";

const ownedSettings = settings<{ requireKafkaUser: boolean }>({
    requireKafkaUser: boolean(true, "Connect and every KafkaAccess authenticate as a KafkaUser this stack declares."),
});

/** What a KafkaConnect authenticates with: its type, the SCRAM user name, and the Secret its credential is read from. */
function connectAuthentication(connect: ResourceLike): { type?: string; username?: string; secret?: string } {
    const auth = asRecord(asRecord(connect.props.spec).authentication);
    const secret = asRecord(auth.passwordSecret).secretName ?? asRecord(auth.certificateAndKey).secretName;
    return {
        type: typeof auth.type === "string" ? auth.type : undefined,
        username: typeof auth.username === "string" ? auth.username : undefined,
        secret: typeof secret === "string" ? secret : undefined,
    };
}

export const kafkaUserStackOwned: StackValidationPolicy = {
    name: "kafka-user-stack-owned",
    description:
        "Where the environment authenticates to Kafka (prod), every KafkaConnect authenticates, and every KafkaAccess binds, a KafkaUser this stack declares, so the stack decides its ACLs.",
    enforcementLevel: "mandatory",
    configSchema: ownedSettings.schema,
    validateStack: (args, report) => {
        if (!ownedSettings.read(args).requireKafkaUser) args.notApplicable("this environment does not authenticate to Kafka");
        const users = new Map(args.resources.filter((r) => KAFKA_USER_TYPES.includes(r.type)).map((r) => [metadata(r.props).name, r]));
        const accesses = args.resources.filter((r) => r.type === KAFKA_ACCESS);
        const connects = args.resources.filter((r) => isKafkaConnect(r.type));
        if (connects.length + accesses.length === 0) args.notApplicable("no KafkaConnect or KafkaAccess in this stack");
        const userOf = (access: ResourceLike): string | undefined => {
            const name = asRecord(asRecord(access.props.spec).user).name;
            return typeof name === "string" ? name : undefined;
        };
        const fix = "Fix: leave kafka.authentication at the profile's value; the stack then creates the client's KafkaUser and binds it.";
        for (const access of accesses) {
            const user = userOf(access);
            if (user === undefined || !users.has(user)) {
                report(
                    `${k8sLabel("KafkaAccess", access.props, access.name)} ${user === undefined ? "binds no KafkaUser" : `binds KafkaUser "${user}", which this stack does not declare`}; ` +
                        `its client would reach Kafka ${user === undefined ? "unauthenticated" : "with ACLs someone else decides"}. ${fix}`,
                    access.urn,
                );
            }
        }
        for (const connect of connects) {
            const label = k8sLabel("KafkaConnect", connect.props, connect.name);
            const auth = connectAuthentication(connect);
            if (auth.type === undefined) {
                report(
                    `${label} does not authenticate to Kafka, so no ACL limits what its workers and connectors do there. ${fix}`,
                    connect.urn,
                );
                continue;
            }
            const access = accesses.find(
                (a) =>
                    asRecord(a.props.spec).secretName === auth.secret && metadata(a.props).namespace === metadata(connect.props).namespace,
            );
            const user = access ? users.get(userOf(access)) : undefined;
            const userType = user ? asRecord(asRecord(user.props.spec).authentication).type : undefined;
            const problem = !access
                ? `reads its credential from Secret "${auth.secret ?? "(none)"}", which no KafkaAccess of this stack writes`
                : !user
                  ? `reads its credential through ${k8sLabel("KafkaAccess", access.props, access.name)}, whose KafkaUser this stack does not declare`
                  : userType !== auth.type
                    ? `authenticates with ${auth.type}, but its KafkaUser "${metadata(user.props).name}" has ${userType ?? "no"} authentication`
                    : auth.type !== "tls" && auth.username !== metadata(user.props).name
                      ? `authenticates as "${auth.username ?? "(no username)"}", not as its KafkaUser "${metadata(user.props).name}"`
                      : undefined;
            if (problem) report(`${label} ${problem}; its ACLs are not the ones this stack declares. ${fix}`, connect.urn);
        }
    },
};

/** Resource types whose names a wildcard would grant all of; a `cluster` resource has one name only. */
const NAMED_TYPES = ["topic", "group", "transactionalId"];

export const kafkaAclNoWildcard: ResourceValidationPolicy = {
    name: "kafka-acl-no-wildcard",
    description: "No KafkaUser ACL allows a whole topic, group or transactional id namespace (`*`, a missing name or an empty prefix).",
    enforcementLevel: "mandatory",
    validateResource: forTypes(KAFKA_USER_TYPES, (user, args, report) => {
        const label = k8sLabel("KafkaUser", user, args.name);
        asArray(asRecord(asRecord(user.spec).authorization).acls)
            .map(asRecord)
            .forEach((acl, i) => {
                if (acl.type === "deny") return;
                const resource = asRecord(acl.resource);
                if (!NAMED_TYPES.includes(String(resource.type))) return;
                const name = resource.name;
                const wildcard = name === undefined || name === "*" || (resource.patternType === "prefix" && name === "");
                if (!wildcard) return;
                const what = name === undefined ? "no name" : name === "*" ? 'name "*"' : "an empty prefix";
                report(
                    `${label} ACL ${i} allows ${asArray(acl.operations).join(", ") || "operations"} on every ${resource.type} (${what}); one leaked credential then reaches every pipeline's data. ` +
                        "Fix: name the topics and groups the client uses, or their prefix from model/naming.ts.",
                );
            });
    }),
};
