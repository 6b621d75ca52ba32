// Type checking runs once in `npm run typecheck`; per-file transpilation keeps mocha start-up fast.
// Each tier script in package.json names its own spec files.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
module.exports = {
    require: ["ts-node/register"],
    timeout: 30000,
};
