import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { importsOf, tsFiles as walk } from '../helpers/importGraph';

/**
 * Who may import whom, as data. Each rule applies to the files whose repository path starts with
 * `files` (or equals it) and looks at every import line (`import … from`, `export … from`,
 * `import('…')`, type-only imports included): relative ones are resolved to repository paths,
 * bare ones are package names. An entry of a list matches an import that starts with it.
 * - `only`: nothing else may be imported from the repository (packages are not checked);
 * - `onlyPackages`: likewise for packages (`node:` built-ins are always allowed);
 * - `never`: none of these, repository paths or packages.
 */
interface Rule {
  files: string;
  only?: string[];
  onlyPackages?: string[];
  never?: string[];
  /** Files the rule does not apply to, each with why. */
  except?: Record<string, string>;
  why: string;
}

/** The parts of the core: what the adapters (src/lambda, src/runtime) and the root wire together. */
const CORE = [
  'src/api/',
  'src/assets/',
  'src/auth/',
  'src/detect/',
  'src/http/',
  'src/image/',
  'src/ingest/',
  'src/labels/',
  'src/logger/',
  'src/metrics/',
  'src/owners/',
  'src/stages/',
  'src/status/',
  'src/upload/',
];
/** What the ports are to the core: their interfaces and the content types, not an adapter. */
const PORT_INTERFACES = [
  'src/ports/ObjectStore.ts',
  'src/ports/Queue.ts',
  'src/ports/DeadLetters.ts',
  'src/ports/EventPublisher.ts',
  'src/ports/contentType.ts',
];

const RULES: Rule[] = [
  {
    files: 'functions/',
    only: ['src/app/createApp.ts', 'src/lambda/'],
    onlyPackages: ['@middy/core'],
    why: 'a function is its composition root plus a Lambda adapter, wrapped in middy',
  },
  {
    files: 'src/',
    never: ['functions/', 'scripts/', 'test/', 'bench/', 'models/'],
    why: 'src stands alone: the runtimes build handlers from src/lambda, never from functions/',
  },
  {
    files: 'src/domain/',
    only: ['src/domain/', 'src/errors.ts'],
    onlyPackages: ['zod'],
    why: "the pipeline's vocabulary (stages, queues, keys, messages, ids, formats, events) stands alone: everyone imports it, it imports no one",
  },
  {
    files: 'src/app/',
    only: [
      'src/config.ts',
      'src/ports/',
      // The authenticator AUTH names (its key store read through src/ports/readSecret.ts).
      'src/auth/authenticator.ts',
      'src/detect/',
      'src/metrics/',
      'src/logger/',
      'src/stages/Stage.ts',
      // The app's one whole-photo limiter, shared by its batches: state of the app, not of a module.
      'src/image/concurrencyLimit.ts',
      // The gallery page the API serves at GET / (App.page): the API core does not know the web UI.
      'src/web/galleryPage.ts',
      'src/http/ApiResponse.ts',
      // The notification a folder store's app queues for its own writes (App.announceCreated).
      'src/ingest/s3Notification.ts',
    ],
    why: "the composition root builds config, ports, detector, metrics, logger and the app's limiter, nothing else",
  },
  {
    files: 'src/runtime/',
    never: ['functions/'],
    why: 'the embedded runtime builds the same handlers from the src/lambda factories, given its app',
  },
  {
    files: 'src/api/',
    never: ['src/lambda/', 'src/runtime/', 'src/app/', 'src/web/', 'aws-lambda'],
    why: 'the API core returns its own ApiResponse; each adapter maps it',
  },
  {
    files: 'src/status/',
    never: ['src/runtime/', 'src/lambda/', 'src/app/', 'src/api/'],
    why: 'status records and waiting on them belong to the status module, used by runtimes, not the reverse',
  },
  ...CORE.map(
    (files): Rule => ({
      files,
      never: ['src/lambda/', 'src/runtime/', 'src/app/', 'aws-lambda', '@middy/', '@aws-lambda-powertools/batch'],
      why: 'the core knows nothing of Lambda, of the runtimes or of the root',
    }),
  ),
  {
    files: 'src/lambda/',
    never: ['src/runtime/', 'functions/'],
    why: 'the Lambda adapters are what the runtimes call, not the other way round',
  },
  {
    files: 'src/ports/',
    only: ['src/config.ts', 'src/errors.ts', 'src/domain/', 'src/ports/'],
    why: 'ports and adapters see config types, errors and the vocabulary only; their logger is injected (src/ports/PortLogger.ts)',
  },
  {
    files: 'models/',
    never: ['scripts/', 'test/', 'bench/', 'functions/'],
    why: 'the model build is a tool of its own: scripts, tests and benches use it, not the other way round',
  },
];

/** The core may use a port's interface, never an adapter. */
const CORE_SEES_PORT_INTERFACES_ONLY = { core: CORE, allowed: PORT_INTERFACES };

/** Module-level state that is allowed, with why (everything else: no module-level `let`, no module-level collection that is mutated). */
const SHARED_STATE_ALLOWED: Record<string, string> = {
  'src/detect/loadSession.ts':
    'loaded models by path: one read-only ONNX session per model file is meant to be shared by every app of the process',
  'src/image/labelFont.ts': "the label font's registration: @napi-rs/canvas keeps its font registry per process anyway",
  'src/image/heif/libheifWasm.ts':
    'the HEIC decoder compiled once per process: immutable code, shared by every app (each decode gets an instance and memory of its own)',
  'src/web/galleryFiles.ts': 'the gallery files read and compiled once: the same constant text for every app in the process',
  'src/web/galleryPage.ts': 'the page assembled once from those files and the code lists: constant, nothing of any one app',
  'src/web/gallery.ts': "the gallery's browser script: its state is the page's, in a visitor's browser; it never runs in Node",
};

/** The one file that reads the environment; everyone else gets it from the config (src/config.ts). */
const ENV_READER = 'src/config.ts';

// ---- checking the imports (read by test/helpers/importGraph.ts) ---------------------------------

const isRepoPath = (spec: string) => /^(src|functions|scripts|test|bench|models|layers)\//.test(spec);
const applies = (rule: Rule, file: string) => (file === rule.files || file.startsWith(rule.files)) && !(rule.except && file in rule.except);
const matches = (spec: string, list: string[]) => list.some((entry) => spec === entry || spec.startsWith(entry));

function violations(files: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const spec of importsOf(file)) {
      for (const rule of RULES.filter((r) => applies(r, file))) {
        const repo = isRepoPath(spec);
        const builtin = spec.startsWith('node:');
        if (rule.never && matches(spec, rule.never)) found.push(`${file} imports ${spec}: ${rule.why}`);
        if (rule.only && repo && !matches(spec, rule.only)) found.push(`${file} imports ${spec}: ${rule.why}`);
        if (rule.onlyPackages && !repo && !builtin && !matches(spec, rule.onlyPackages)) found.push(`${file} imports ${spec}: ${rule.why}`);
      }
      const { core, allowed } = CORE_SEES_PORT_INTERFACES_ONLY;
      if (matches(file, core) && spec.startsWith('src/ports/') && !matches(spec, allowed)) {
        found.push(`${file} imports ${spec}: the core sees the ports through their interfaces, never an adapter`);
      }
    }
  }
  return [...new Set(found)];
}

describe('layer rules (who may import whom)', () => {
  const files = [...walk('src'), ...walk('functions'), ...walk('scripts'), ...walk('models')];

  it('reads the imports it checks', () => {
    // The checks below are only as good as the import reader: it must see every kind of import.
    assert.ok(files.length > 60, `found only ${files.length} files`);
    assert.deepEqual(importsOf('functions/api/handler.ts'), [
      '@middy/core',
      'src/app/createApp.ts',
      'src/lambda/apiHandler.ts',
      'src/lambda/middlewares.ts',
    ]);
    assert.ok(importsOf('src/detect/loadSession.ts').includes('onnxruntime-node'), 'a dynamic import()');
    assert.ok(importsOf('src/lambda/resizeHandler.ts').includes('src/app/createApp.ts'), 'a type-only import');
  });

  it('finds a forbidden edge when there is one', () => {
    // The rules are not vacuous: each brief example of a leak, as it was before this layout.
    const before: Array<[string, string]> = [
      ['src/runtime/startEmbedded.ts', 'functions/upload/handler.ts'],
      ['src/api/routeApi.ts', 'src/lambda/apiRequest.ts'],
      ['src/status/StatusWatcher.ts', 'src/runtime/waitForImage.ts'],
      ['functions/detect/handler.ts', 'src/stages/detectStage.ts'],
      // The ports logged through a module logger made at import time; theirs is injected now.
      ['src/ports/MemoryQueue.ts', 'src/log.ts'],
      ['src/ports/S3ObjectStore.ts', 'src/logger/createLogger.ts'],
      // The vocabulary's cycle: the keys named the status module's stage type, which imported the messages.
      ['src/domain/keys.ts', 'src/status/stageStatus.ts'],
      // The model build found the repository through the scripts, which import the model build.
      ['models/paths.ts', 'scripts/repoRoot.ts'],
    ];
    for (const [file, spec] of before) {
      const rules = RULES.filter((r) => applies(r, file));
      assert.ok(
        rules.some((r) => (r.never && matches(spec, r.never)) || (r.only && !matches(spec, r.only))),
        `${file} -> ${spec} should break a rule`,
      );
    }
  });

  it('holds for every file of src/, functions/, scripts/ and models/', () => {
    assert.deepEqual(violations(files), []);
  });

  it('has no module-level mutable state in src/ (a Lambda handler module keeps its app in a const)', () => {
    const found: string[] = [];
    for (const file of [...walk('src'), ...walk('functions')]) {
      if (file in SHARED_STATE_ALLOWED) continue;
      const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
      for (const m of text.matchAll(/^(?:export\s+)?(let|var)\s+(\w+)/gm)) found.push(`${file}: module-level ${m[1]} ${m[2]}`);
      for (const m of text.matchAll(/^(?:export\s+)?const\s+(\w+)(?::[^=]+)?\s*=\s*new\s+(Map|Set|WeakMap|WeakSet)\b/gm)) {
        if (new RegExp(`\\b${m[1]}\\.(set|add|delete|clear)\\(`).test(text)) found.push(`${file}: module-level ${m[2]} ${m[1]}, mutated`);
      }
    }
    assert.deepEqual(found, []);
  });

  it('reads the environment only in src/config.ts', () => {
    const found = [...walk('src'), ...walk('functions'), ...walk('scripts').filter((f) => /^scripts\/[^/]+\.ts$/.test(f))].filter(
      (file) => file !== ENV_READER && /process\.env\b/.test(readFileSync(path.join(REPO_ROOT, file), 'utf8')),
    );
    assert.deepEqual(found, []);
  });
});
