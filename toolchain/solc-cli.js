#!/usr/bin/env node
// A native-solc look-alike over the npm `solc` package (solcjs), for machines with no native solc.
//
// It answers the two things py-solc-x and ape-solidity ask of a compiler binary:
//   --version                 -> "Version: 0.8.N+commit.HASH..." (parsed by their version regex)
//   --standard-json [paths]   -> standard-JSON on stdin, standard-JSON on stdout
// Imports are resolved the way native solc does: against --base-path, then each --include-path,
// and only inside those and any --allow-paths.
//
// Output is written with fs.writeSync(1, ...) in a loop: process.stdout.write followed by
// process.exit truncates piped output at 64 KiB.
"use strict";
const fs = require("fs");
const path = require("path");

// solcjs costs ~0.7 s of CPU to load (it instantiates the whole compiler), and py-solc-x and ape
// ask a compiler binary for --version on every start: the answer is kept beside this script (the
// bundle it lives in is immutable, named for its content), so only the first --version loads solc.
const VERSION_FILE = path.join(__dirname, "solc-version.txt");

function versionText() {
  try {
    return fs.readFileSync(VERSION_FILE, "utf8");
  } catch (err) {
    if (err.code !== "ENOENT") throw err;
  }
  const v = require("solc").version().replace(/\.Emscripten\.clang$/, "");
  const text = `solc, the solidity compiler commandline interface\nVersion: ${v}.Linux.g++\n`;
  const tmp = `${VERSION_FILE}.${process.pid}`;
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, VERSION_FILE); // atomic: a concurrent reader sees the whole answer or none
  } catch (err) {
    // a read-only bundle still answers, only not from the cache
  }
  return text;
}

function writeAll(fd, text) {
  const buf = Buffer.from(text, "utf8");
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (err) {
      if (err.code !== "EAGAIN") throw err;
    }
  }
}

function parseArgs(argv) {
  const opts = { basePath: null, includePaths: [], allowPaths: [], standardJson: false, version: false, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const takeValue = () => {
      const eq = arg.indexOf("=");
      if (eq !== -1) return arg.slice(eq + 1);
      i += 1;
      if (i >= argv.length) fail(`option ${arg} needs a value`);
      return argv[i];
    };
    if (arg === "--version") opts.version = true;
    else if (arg === "--standard-json") opts.standardJson = true;
    else if (arg.startsWith("--base-path")) opts.basePath = takeValue();
    else if (arg.startsWith("--include-path")) opts.includePaths.push(...takeValue().split(","));
    else if (arg.startsWith("--allow-paths")) opts.allowPaths.push(...takeValue().split(","));
    else opts.rest.push(arg);
  }
  return opts;
}

function fail(message) {
  writeAll(2, `solc-cli: ${message}\n`);
  process.exit(2);
}

function makeImportCallback(opts) {
  const roots = [opts.basePath || process.cwd(), ...opts.includePaths].map((p) => path.resolve(p));
  const allowed = [...roots, ...opts.allowPaths.map((p) => path.resolve(p))];
  const inside = (file) => allowed.some((root) => file === root || file.startsWith(root + path.sep));
  return function findImports(importPath) {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.join(r, importPath));
    for (const candidate of candidates) {
      const resolved = path.resolve(candidate);
      if (!inside(resolved)) continue;
      if (fs.existsSync(resolved) && fs.statSync(resolved).isFile()) {
        return { contents: fs.readFileSync(resolved, "utf8") };
      }
    }
    return { error: `File not found inside the base path or any of the include paths: ${importPath}` };
  };
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.version) {
    writeAll(1, versionText());
    return 0;
  }
  if (!opts.standardJson) fail("only --version and --standard-json are supported by this solcjs shim");
  const input = fs.readFileSync(0, "utf8");
  const output = require("solc").compile(input, { import: makeImportCallback(opts) });
  writeAll(1, output);
  return 0;
}

process.exitCode = main();
