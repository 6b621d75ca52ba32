// Type checking runs once in `npm run typecheck`; per-file transpilation keeps mocha start-up fast.
// The tier scripts in package.json pass their own spec globs; this default is the unit tier.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
module.exports = {
  require: ["ts-node/register"],
  spec: ["test/**/*.spec.ts"],
  ignore: ["test/integration/**", "test/e2e/**"],
  timeout: 30000,
};
