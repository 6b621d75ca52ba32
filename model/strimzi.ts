/**
 * The Strimzi release this stack is built and contract-tested against. Its CRDs are what the contract
 * tests validate with (test/contracts/derive-schemas.ts), and a KafkaConnect asking for a Kafka version
 * the operator does not ship is refused by the operator only after `pulumi up`, so the config rules check
 * `connect.kafkaVersion` against the same release.
 */
export const STRIMZI_VERSION = "1.2.0";

/**
 * The Kafka versions Strimzi 1.2.0 runs (`supported: true` in its kafka-versions.yaml; 1.1.0 removed
 * 4.1.x, 1.2.0 added 4.3.1, its default).
 */
export const STRIMZI_KAFKA_VERSIONS = ["4.2.0", "4.2.1", "4.3.0", "4.3.1"] as const;

/**
 * How a workload of the stack authenticates to Kafka, as a KafkaUser the stack creates: Strimzi's `scram-sha-512`
 * (a password the User Operator generates) or `tls` (a client certificate from the clients CA, which needs a TLS
 * listener), or `none` on a listener without authentication, where ACLs would name a principal nobody is.
 */
export const KAFKA_AUTHENTICATIONS = ["none", "scram-sha-512", "tls"] as const;
export type KafkaAuthentication = (typeof KAFKA_AUTHENTICATIONS)[number];
