#!/usr/bin/env node
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// Times one ONNX model with ONNX Runtime (onnxruntime-node, CPU execution
// provider): the ONNX Runtime side of bench/compare_forward.py --ort.
//
//   node bench/ort_bench.js MODEL.onnx [--threads N] [--warmup W]
//        [--iterations I] [--shape NAME=D0xD1x...]... [--seed S] [--no-spinning]
//   node bench/ort_bench.js MODEL.onnx --dump-output OUT.json [--input IN.json]
//   node bench/ort_bench.js --version
//
// onnxruntime-node is loaded from $DLC_ORT_DIR (default bench/.ort), where
//   npm install --prefix bench/.ort --ignore-scripts onnxruntime-node@1
// puts it (--ignore-scripts: keep the CPU build the package ships, skip the
// download of GPU binaries).
//
// Timing mode: one session (CPU EP, intraOpNumThreads N, interOpNumThreads 1,
// graph optimization 'all', sequential execution), random float32 inputs
// uniform [-1, 1) of the model's input shapes (its metadata, or --shape), W
// untimed then I timed `await session.run(feeds)` (process.hrtime.bigint);
// prints one JSON object {median_ms, min_ms, max_ms, times_ms, ort_version,
// threads, ...} on stdout.
//
// --dump-output: runs once on the inputs of IN.json ({"NAME": {"dims": [...],
// "data": [...]}}, random without it) and writes the outputs to OUT.json in
// the same form (with ort_version).

'use strict';

const fs = require('fs');
const path = require('path');

const ORT_DIR = process.env.DLC_ORT_DIR || path.join(__dirname, '.ort');
const NPM_HINT = `npm install --prefix ${ORT_DIR} --ignore-scripts onnxruntime-node@1`;

function fail(msg, code = 1) {
  process.stderr.write(`ort_bench.js: error: ${msg}\n`);
  process.exit(code);
}

function loadOrt() {
  let where;
  try {
    where = require.resolve('onnxruntime-node', { paths: [ORT_DIR] });
  } catch (e) {
    // Exit 3: "not installed" (compare_forward.py turns it into its message).
    fail(`onnxruntime-node is not installed in ${ORT_DIR}; run: ${NPM_HINT}`, 3);
  }
  const ort = require(where);
  let version = ort.env && ort.env.versions && (ort.env.versions.node || ort.env.versions.common);
  if (!version) {
    try {
      const pkg = path.join(path.dirname(require.resolve('onnxruntime-node/package.json', { paths: [ORT_DIR] })),
                            'package.json');
      version = JSON.parse(fs.readFileSync(pkg, 'utf8')).version;
    } catch (e) {
      version = 'unknown';
    }
  }
  return { ort, version };
}

function parseArgs(argv) {
  const a = { model: null, threads: 1, warmup: 3, iterations: 20, shapes: {}, seed: 1,
              dump: null, input: null, spinning: true, version: false };
  const need = (i) => {
    if (i + 1 >= argv.length) fail(`${argv[i]} needs a value`);
    return argv[i + 1];
  };
  const int = (s, name, min) => {
    const v = Number(s);
    if (!Number.isInteger(v) || v < min) fail(`${name} must be an integer >= ${min}, got '${s}'`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const o = argv[i];
    if (o === '--threads') { a.threads = int(need(i), o, 1); i++; }
    else if (o === '--warmup') { a.warmup = int(need(i), o, 0); i++; }
    else if (o === '--iterations') { a.iterations = int(need(i), o, 1); i++; }
    else if (o === '--seed') { a.seed = int(need(i), o, 0); i++; }
    else if (o === '--dump-output') { a.dump = need(i); i++; }
    else if (o === '--input') { a.input = need(i); i++; }
    else if (o === '--no-spinning') { a.spinning = false; }
    else if (o === '--version') { a.version = true; }
    else if (o === '--shape') {
      const m = /^([^=]+)=(\d+(?:x\d+)*)$/.exec(need(i));
      if (!m) fail(`--shape wants NAME=D0xD1x..., got '${argv[i + 1]}'`);
      a.shapes[m[1]] = m[2].split('x').map(Number);
      i++;
    } else if (o === '-h' || o === '--help') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n')
        .filter((l) => l.startsWith('//')).slice(2, 25).map((l) => l.slice(3)).join('\n') + '\n');
      process.exit(0);
    } else if (o.startsWith('-')) fail(`unknown option ${o}`);
    else if (a.model === null) a.model = o;
    else fail(`one model only (got '${a.model}' and '${o}')`);
  }
  if (a.model === null && !a.version) fail('no model (usage: ort_bench.js MODEL.onnx [options])');
  if (a.input && !a.dump) fail('--input goes with --dump-output');
  return a;
}

// mulberry32: small seeded generator, uniform [0, 1).
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function inputShape(meta, name, shapes) {
  if (shapes[name]) return shapes[name];
  const m = meta.find((x) => x.name === name);
  const dims = m && m.isTensor ? m.shape : null;
  if (!dims || !dims.every((d) => typeof d === 'number' && d > 0)) {
    fail(`input '${name}' has no fixed shape in the model (${JSON.stringify(dims)}); pass --shape ${name}=...`);
  }
  if (m.type !== 'float32') fail(`input '${name}' is ${m.type}; only float32 inputs are supported`);
  return dims.slice();
}

function makeFeeds(ort, session, a) {
  const feeds = {};
  const described = {};
  let given = null;
  if (a.input) {
    try {
      given = JSON.parse(fs.readFileSync(a.input, 'utf8'));
    } catch (e) {
      fail(`${a.input}: ${e.message}`);
    }
  }
  const rand = rng(a.seed);
  for (const name of session.inputNames) {
    let dims, data;
    if (given) {
      const g = given[name];
      if (!g || !Array.isArray(g.dims) || !Array.isArray(g.data)) {
        fail(`${a.input}: no {"dims", "data"} for input '${name}'`);
      }
      dims = g.dims;
      data = Float32Array.from(g.data);
      if (data.length !== dims.reduce((x, y) => x * y, 1)) {
        fail(`${a.input}: input '${name}' has ${data.length} values for dims ${JSON.stringify(dims)}`);
      }
    } else {
      dims = inputShape(session.inputMetadata || [], name, a.shapes);
      data = new Float32Array(dims.reduce((x, y) => x * y, 1));
      for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
    }
    feeds[name] = new ort.Tensor('float32', data, dims);
    described[name] = dims;
  }
  return { feeds, described };
}

function ms(ns) {
  return Number(ns) / 1e6;
}

function median(xs) {
  const v = xs.slice().sort((x, y) => x - y);
  const n = v.length;
  return n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const { ort, version } = loadOrt();
  if (a.version) {
    process.stdout.write(`${version}\n`);
    return;
  }
  if (!fs.existsSync(a.model)) fail(`${a.model}: no such file`);
  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: a.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  if (!a.spinning) options.extra = { session: { intra_op: { allow_spinning: '0' } } };
  let session;
  const t0 = process.hrtime.bigint();
  try {
    session = await ort.InferenceSession.create(a.model, options);
  } catch (e) {
    fail(`${a.model}: cannot create the session: ${e.message}`);
  }
  const createMs = ms(process.hrtime.bigint() - t0);
  const { feeds, described } = makeFeeds(ort, session, a);

  if (a.dump) {
    const out = await session.run(feeds);
    const res = { ort_version: version, threads: a.threads, outputs: {} };
    for (const name of session.outputNames) {
      const t = out[name];
      res.outputs[name] = { dims: Array.from(t.dims), data: Array.from(t.data) };
    }
    fs.writeFileSync(a.dump, JSON.stringify(res));
    await session.release();
    return;
  }

  for (let i = 0; i < a.warmup; i++) await session.run(feeds);
  const times = [];
  let last = null;
  for (let i = 0; i < a.iterations; i++) {
    const s = process.hrtime.bigint();
    last = await session.run(feeds);
    times.push(ms(process.hrtime.bigint() - s));
  }
  const outputs = session.outputNames.map((n) => ({ name: n, dims: Array.from(last[n].dims) }));
  const report = {
    median_ms: median(times),
    min_ms: Math.min(...times),
    max_ms: Math.max(...times),
    times_ms: times,
    ort_version: version,
    threads: a.threads,
    inter_op_threads: 1,
    graph_optimization: 'all',
    execution_mode: 'sequential',
    intra_op_spinning: a.spinning,
    warmup: a.warmup,
    iterations: a.iterations,
    session_create_ms: createMs,
    inputs: Object.entries(described).map(([name, dims]) => ({ name, dims })),
    outputs,
    node: process.version,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
  await session.release();
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
