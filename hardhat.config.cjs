// No Hardhat is used in this project. This file only marks the folder as a Hardhat-layout project
// so that crytic-compile (Slither) reads the build-info that loyalty_chain.compile writes to
// artifacts/build-info/ (standard-JSON input + output), without compiling anything itself.
module.exports = { solidity: "0.8.28", paths: { sources: "./contracts", artifacts: "./artifacts" } };
