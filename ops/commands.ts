/**
 * Every `cdc` command, in the order `cdc --help` lists them. To add one: write it in its own module under
 * ops/ (see docs/ops.md, "Adding a command"), then add one import line and one array entry here.
 */
import type { Command } from "./command";
import { status } from "./status";
import { preflight } from "./preflight";
import { offsetsAlter, offsetsList, offsetsReset, pause, restart, resume, stop } from "./connector-actions";
import { DLQ_COMMANDS } from "./dlq-commands";
import { schemaEvents } from "./schema-events";
import { snapshot } from "./snapshot";

export const COMMANDS: readonly Command[] = [
    status,
    preflight,
    restart,
    pause,
    resume,
    stop,
    offsetsList,
    offsetsAlter,
    offsetsReset,
    ...DLQ_COMMANDS,
    schemaEvents,
    snapshot,
];
