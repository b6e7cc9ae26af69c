import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { StageName } from '../domain/stages';

/**
 * What the stage runner reports about each message, so the same calls feed CloudWatch (EMF, on
 * Lambda) and the Prometheus text of `GET /metrics` (embedded default).
 *
 * One attempt of one message ends in exactly one of `processed` (stage done), `retried` (a
 * transient fault: the queue will redeliver it) or `failed` (the image's stage failed for good),
 * each with the attempt's duration. `dead-lettered` is counted on its own, without a duration,
 * when a message goes to the dead-letter queue: after a permanent failure, after the last receive
 * of a transient one (the queue's redrive policy moves it), or when the message is not valid.
 */
export const STAGE_OUTCOMES = ['processed', 'retried', 'failed', 'dead-lettered'] as const;
export type StageOutcome = (typeof STAGE_OUTCOMES)[number];

export interface StageMetrics {
  recordStage(stage: StageName, outcome: StageOutcome, durationMs?: number): void;
  /** Every series as Prometheus text, for `GET /metrics` (the embedded default); absent where metrics are printed (EMF). */
  render?(): string;
  /**
   * The Powertools Metrics that Lambda's `logMetrics` middleware prints at the end of each
   * invocation (EMF, src/lambda/middlewares.ts); absent where nothing is printed.
   */
  readonly emf?: Metrics;
  /** Prints what is stored and not yet printed (EMF, when the app closes). */
  flush?(): void;
}

/** The default when nothing is configured (tests, scripts): records nothing. */
export const noopMetrics: StageMetrics = {
  recordStage() {},
};
