// The Hardhat config of the EDR node the tests start (tests/support/hardhat.py), not a project
// config: nothing here compiles, and the repository's own hardhat.config.cjs (a marker for
// Slither) stays untouched. Hardhat reads it with `--config`; its root is this folder, where no
// artifacts exist, so the node has no compiler output to load or watch.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "osaka", // EIP-7825: at most 16,777,216 gas per transaction, like anvil --enable-tx-gas-limit
      loggingEnabled: false, // `hardhat node` would log every call to stdout otherwise
      mining: { auto: true, interval: 0 },
      accounts: {
        mnemonic: "test test test test test test test test test test test junk",
        count: 10,
        accountsBalance: "10000000000000000000000", // 10,000 ETH, as the managed anvil
      },
    },
  },
};
