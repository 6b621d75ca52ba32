/** `cdc snapshot`'s choice of how the reconciler's progress is shown on stderr. */
import { expect } from "chai";
import { progressLine } from "../../reconciler/progress";
import type { ProgressEvent } from "../../reconciler/reconcile";
import { reconcilerLogger } from "../../ops/snapshot";

function stream(isTTY: boolean | undefined): NodeJS.WritableStream & { isTTY?: boolean; text: () => string } {
    const chunks: string[] = [];
    return Object.assign(
        {
            write: (chunk: string) => {
                chunks.push(chunk);
                return true;
            },
            text: () => chunks.join(""),
        },
        isTTY === undefined ? {} : { isTTY },
    ) as unknown as NodeJS.WritableStream & { isTTY?: boolean; text: () => string };
}

describe("cdc snapshot: the reconciler's progress on stderr", () => {
    const scanning: ProgressEvent = { table: "public.orders", phase: "scan", sourceRows: 1500, targetRows: 1499, elapsedMs: 2000 };

    it("is the redrawn human line on a terminal", () => {
        const tty = stream(true);
        const log = reconcilerLogger(tty);
        log.progress(scanning);
        log.info("report written");
        expect(tty.text()).to.equal(`\r\x1b[K${progressLine(scanning)}\nreport written\n`);
    });

    it("is one JSON object per line in a pipe or a log file", () => {
        for (const isTTY of [false, undefined]) {
            const pipe = stream(isTTY);
            const log = reconcilerLogger(pipe);
            log.progress(scanning);
            log.info("report written");
            const lines = pipe
                .text()
                .trimEnd()
                .split("\n")
                .map((l) => JSON.parse(l) as Record<string, unknown>);
            expect(lines.map((l) => l.msg)).to.deep.equal(["progress", "report written"]);
            expect(lines[0]).to.include({ table: "public.orders", phase: "scan", sourceRows: 1500 });
        }
    });
});
