/**
 * Cold start probe, spawned fresh by bench/detect.bench.ts: imports the detector, loads the model,
 * runs one detection, and prints one JSON line of timings (ms; `boot` is process start to here).
 */
import { readFileSync } from 'node:fs';

const boot = performance.now(); // performance.timeOrigin is the process start
const [{ detect }, { loadSession }] = await Promise.all([import('../src/detect/Detector'), import('../src/detect/loadSession')]);
const imported = performance.now();
const modelPath = process.env.MODEL_PATH;
const model = await loadSession({ modelPath });
const loaded = performance.now();
const image = readFileSync(process.argv[2] ?? '');
const detections = await detect(image, { modelPath });
const detected = performance.now();
process.stdout.write(
  `${JSON.stringify({
    boot,
    importMs: imported - boot,
    modelLoadMs: loaded - imported,
    ortLoadMs: model.loadMs,
    firstDetectionMs: detected - loaded,
    sinceProcessStartMs: detected,
    detections: detections.length,
  })}\n`,
);
