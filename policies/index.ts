/**
 * Entry point Pulumi runs for `pulumi preview --policy-pack policies`. Per-environment thresholds and
 * enforcement levels come from `--policy-pack-config policies/<env>.json`; without it every policy runs
 * at its own level with production defaults.
 */
import { PolicyPack } from "@pulumi/policy";
import { configurePack, PACK_DESCRIPTION, PACK_NAME } from "./pack";

const { policies, initialConfig } = configurePack();

new PolicyPack(PACK_NAME, { description: PACK_DESCRIPTION, enforcementLevel: "mandatory", policies }, initialConfig);
