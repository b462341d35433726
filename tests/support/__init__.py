"""Test infrastructure shared by the test levels (and bench/): a fault-injecting JSON-RPC proxy,
a second node (hardhat's EDR), and the pytest fixtures over them (``support.fixtures``)."""
