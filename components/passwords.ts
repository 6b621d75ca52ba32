import type * as random from "@pulumi/random";

/**
 * Every password the stack generates. 32 characters from letters, digits and the URL-unreserved
 * symbols `-_.~`: SQL Server's complexity policy is met (upper, lower, digit, symbol), and the value needs
 * no escaping in a database URL, a JDBC property, a Go template or Strimzi's `${secrets:...}` lookup.
 * Rotate one with `pulumi up --replace <its RandomPassword URN>`; see README.
 */
export const generatedPasswordArgs: random.RandomPasswordArgs = {
    length: 32,
    special: true,
    overrideSpecial: "-_.~",
    minUpper: 2,
    minLower: 2,
    minNumeric: 2,
    minSpecial: 1,
};
