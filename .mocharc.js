// Type checking runs once in `npm run build`; per-file transpilation keeps mocha start-up fast.
process.env.TS_NODE_TRANSPILE_ONLY = "true";
module.exports = {
  require: ["ts-node/register"],
  spec: ["test/**/*.spec.ts"],
  timeout: 30000,
};
