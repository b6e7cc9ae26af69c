/**
 * The pipeline's stages and queues by name: the status API reports each stage under that name
 * (src/status/stageStatus.ts says where each one's record is); src/domain/pipeline.ts says what
 * each one consumes, writes and sends.
 */
export const STAGES = ['upload', 'resize', 'grayscale', 'detect', 'tag'] as const;
export type StageName = (typeof STAGES)[number];
/** The stages an SQS queue feeds (upload is an HTTP request, or an object under uploads/). */
export type QueueStageName = Exclude<StageName, 'upload'>;
export const QUEUE_STAGES = STAGES.filter((stage): stage is QueueStageName => stage !== 'upload');

/**
 * Every queue of the pipeline, by the function that consumes it (the function of that name in
 * serverless.yml, whose SQS event it is), with its default name: config reads each from its
 * variable (RESIZE_QUEUE, …, INGEST_QUEUE), serverless.yml prefixes it per deployment
 * (`${queuePrefix}resize_queue`). `ingest` carries the bucket's ObjectCreated notifications for
 * uploads/ (src/ingest/). Each has a dead-letter queue `<name>_dlq`.
 */
export const QUEUES = {
  resize: 'resize_queue',
  grayscale: 'grayscale_queue',
  detect: 'objectdetect_queue',
  tag: 'tag_queue',
  ingest: 'ingest_queue',
} as const;
/** A queue by the function that consumes it. */
export type QueueKey = keyof typeof QUEUES;
export const QUEUE_KEYS = Object.keys(QUEUES) as QueueKey[];
