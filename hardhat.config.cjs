// Hardhat does not build this project. This file only marks the folder as a Hardhat-layout project
// so that crytic-compile (Slither) reads the build-info that loyalty_chain.compile writes to
// artifacts/build-info/ (standard-JSON input + output), without compiling anything itself
// (slither.config.json: hardhat_ignore_compile). The hardhat npm package is there only for the
// tests' second node (EDR), which runs with its own config: tests/support/hardhat_node.config.cjs.
module.exports = { solidity: "0.8.28", paths: { sources: "./contracts", artifacts: "./artifacts" } };
