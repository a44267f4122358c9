// ONNX Runtime's CPU peer of bench_inference (node + the npm package onnxruntime-node, whose
// native library is ONNX Runtime's CPU runtime). Runs a model exported by bench/onnx_export.py
// on its decoded input image and prints one JSON line in bench/torchvision_peer.py's layout:
// per-iteration latencies (wall and process CPU, ms), medians, detections, peak RSS (KiB).
//
//   node bench/onnxruntime_peer.js --ort DIR/node_modules/onnxruntime-node --model faster.onnx
//        --threads 2 [--warmup 1] [--iters 5]
//
// Session options: intra-op threads = --threads, inter-op threads 1, sequential execution, all
// graph optimisations (ONNX Runtime's defaults otherwise, spinning thread pool included). The
// timed call is session.run: normalisation, resizing, network and post-processing, all inside
// the exported graph; only the image decoding (done once by the exporter) is outside, so
// "end-to-end" and "model-only" are the same figure here.
'use strict';
const fs = require('fs');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  if (i >= 0 && i + 1 < process.argv.length) return process.argv[i + 1];
  if (fallback === undefined) throw new Error('missing --' + name);
  return fallback;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function main() {
  const ort = require(arg('ort'));
  const model = arg('model');
  const threads = Number(arg('threads'));
  const warmup = Number(arg('warmup', '1'));
  const iters = Number(arg('iters', '5'));
  const shape = JSON.parse(fs.readFileSync(model + '.input.json', 'utf8')).shape;
  const bytes = fs.readFileSync(model + '.input.bin');
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  });
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, shape)};
  let detections = 0;
  const run = async () => {
    const out = await session.run(feeds);
    detections = out[session.outputNames[0]].dims[0];
  };
  for (let i = 0; i < warmup; ++i) await run();
  const wall = [], cpu = [];
  for (let i = 0; i < iters; ++i) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await run();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const result = {framework: 'onnxruntime-node ' + require(arg('ort') + '/package.json').version, threads,
                  input_shape: shape, e2e_ms: wall, e2e_cpu_ms: cpu, e2e_median_ms: median(wall),
                  e2e_cpu_median_ms: median(cpu), model_median_ms: median(wall), model_cpu_median_ms: median(cpu),
                  detections, peak_rss_kib: process.resourceUsage().maxRSS};
  console.log(JSON.stringify(result));
}

main().catch((e) => {
  console.error('onnxruntime_peer: ' + (e && e.message ? e.message : e));
  process.exit(1);
});
